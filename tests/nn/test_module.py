"""nn.Module: registration, traversal, modes, state_dict, hooks, repr, dtype conversion."""
import copy
from collections import OrderedDict

import numpy as np
import pytest

import ember
from ember import nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(3, 4)
        self.act = nn.ReLU()
        self.fc2 = nn.Linear(4, 2, bias=False)
        self.scale = nn.Parameter(ember.ones(1))
        self.register_buffer("steps", ember.zeros(1))
        self.register_buffer("cache", ember.zeros(2), persistent=False)

    def forward(self, x):
        return self.fc2(self.act(self.fc1(x))) * self.scale


def test_parameter_basics():
    p = nn.Parameter(ember.tensor([1.0, 2.0]))
    assert isinstance(p, ember.Tensor) and isinstance(p, nn.Parameter)
    assert p.requires_grad and p.is_leaf
    assert repr(p) == "Parameter containing:\ntensor([1., 2.])"
    assert not nn.Parameter(ember.zeros(2), requires_grad=False).requires_grad
    assert tuple(nn.Parameter().shape) == (0,)
    assert type(p * 2) is ember.Tensor
    q = copy.deepcopy(p)
    assert isinstance(q, nn.Parameter) and q.requires_grad and q.tolist() == [1.0, 2.0]
    with ember.no_grad():
        q.fill_(5.0)
    assert p.tolist() == [1.0, 2.0]
    with pytest.raises(TypeError):
        nn.Parameter([1.0, 2.0])


def test_registration_and_traversal():
    m = Net()
    assert [n for n, _ in m.named_parameters()] == ["scale", "fc1.weight", "fc1.bias", "fc2.weight"]
    assert [n for n, _ in m.named_parameters(recurse=False)] == ["scale"]
    assert [n for n, _ in m.named_buffers()] == ["steps", "cache"]
    assert [n for n, _ in m.named_children()] == ["fc1", "act", "fc2"]
    assert [n for n, _ in m.named_modules()] == ["", "fc1", "act", "fc2"]
    assert [n for n, _ in m.named_parameters(prefix="net")][0] == "net.scale"
    assert len(list(m.modules())) == 4 and len(list(m.children())) == 3
    assert m.get_submodule("fc1") is m.fc1 and m.get_parameter("fc1.bias") is m.fc1.bias
    assert m.get_buffer("steps") is m._buffers["steps"]
    with pytest.raises(AttributeError, match="has no attribute `nope`"):
        m.get_submodule("nope")
    with pytest.raises(AttributeError, match="not an nn.Parameter"):
        m.get_parameter("fc1.in_features")
    # reassigning a parameter name to a plain tensor is an error; to None is allowed
    with pytest.raises(TypeError, match="cannot assign"):
        m.scale = ember.ones(1)
    m.fc2.bias = None
    # attribute kinds move between tables
    m.extra = nn.Linear(1, 1)
    assert "extra" in m._modules
    del m.extra
    assert "extra" not in m._modules and not hasattr(m, "extra")
    with pytest.raises(KeyError, match="contain"):
        m.register_parameter("a.b", None)
    with pytest.raises(KeyError, match="already exists"):
        m.register_buffer("fc1", ember.zeros(1))
    with pytest.raises(AttributeError, match="object has no attribute 'missing'"):
        m.missing
    assert "fc1" in dir(m) and "steps" in dir(m)


def test_shared_parameters_and_remove_duplicate():
    a = nn.Linear(2, 2)
    seq = nn.Sequential(a, nn.ReLU(), a)
    assert len(list(seq.parameters())) == 2
    assert len(list(seq.named_parameters(remove_duplicate=False))) == 4
    assert [n for n, _ in seq.named_modules()] == ["", "0", "1"]
    assert len(list(seq.named_modules(remove_duplicate=False))) == 4


def test_assign_before_init_raises():
    class Bad(nn.Module):
        def __init__(self):
            self.w = nn.Parameter(ember.ones(1))
            super().__init__()

    with pytest.raises(AttributeError, match="before Module.__init__"):
        Bad()


def test_train_eval_apply_requires_grad_zero_grad():
    m = Net()
    m.eval()
    assert not m.training and not m.fc1.training
    m.train()
    assert m.fc1.training
    seen = []
    m.apply(lambda mod: seen.append(type(mod).__name__))
    assert seen == ["Linear", "ReLU", "Linear", "Net"]
    m.requires_grad_(False)
    assert not any(p.requires_grad for p in m.parameters())
    m.requires_grad_()
    m(ember.ones(2, 3)).sum().backward()
    assert all(p.grad is not None for p in m.parameters())
    m.zero_grad(set_to_none=False)
    assert all(p.grad is not None and float(p.grad.abs().sum().item()) == 0.0 for p in m.parameters())
    m.zero_grad()
    assert all(p.grad is None for p in m.parameters())


def test_state_dict_round_trip():
    m, m2 = Net(), Net()
    sd = m.state_dict()
    assert isinstance(sd, OrderedDict)
    assert list(sd) == ["scale", "steps", "fc1.weight", "fc1.bias", "fc2.weight"]   # no non-persistent cache
    assert not isinstance(sd["scale"], nn.Parameter) and not sd["fc1.weight"].requires_grad
    assert isinstance(m.state_dict(keep_vars=True)["scale"], nn.Parameter)
    assert list(m.state_dict(prefix="p."))[0] == "p.scale"
    before = m2.fc1.weight
    r = m2.load_state_dict(sd)
    assert repr(r) == "<All keys matched successfully>" and r.missing_keys == [] and r.unexpected_keys == []
    assert m2.fc1.weight is before
    np.testing.assert_array_equal(m2.fc1.weight.detach().numpy(), m.fc1.weight.detach().numpy())
    x = ember.randn(5, 3)
    np.testing.assert_array_equal(m(x).detach().numpy(), m2(x).detach().numpy())


def test_load_state_dict_strict_and_non_strict():
    m = nn.Linear(2, 3)
    sd = {"weight": ember.zeros(3, 2), "foo": ember.zeros(1)}
    with pytest.raises(RuntimeError) as ei:
        m.load_state_dict(sd)
    msg = str(ei.value)
    assert msg == ('Error(s) in loading state_dict for Linear:\n\tMissing key(s) in state_dict: "bias". '
                   '\n\tUnexpected key(s) in state_dict: "foo". ')
    r = m.load_state_dict(sd, strict=False)
    assert r.missing_keys == ["bias"] and r.unexpected_keys == ["foo"]
    missing, unexpected = r
    assert m.weight.abs().sum().item() == 0.0


def test_load_state_dict_shape_mismatch_and_skip_mismatched():
    m = nn.Sequential(nn.Linear(2, 3), nn.Linear(3, 4))
    sd = m.state_dict()
    sd["1.weight"] = ember.ones(5, 3)
    with pytest.raises(RuntimeError, match=r"size mismatch for 1.weight: copying a param with shape \(5, 3\) "
                                           r"from checkpoint, the shape in current model is \(4, 3\)"):
        m.load_state_dict(sd)
    with pytest.raises(RuntimeError, match="size mismatch for 1.weight"):
        m.load_state_dict(sd, strict=False)
    old = m[1].weight.detach().clone()
    sd["0.bias"] = ember.full((3,), 7.0)
    r = m.load_state_dict(sd, skip_mismatched=True)
    assert r.mismatched_keys == [("1.weight", (4, 3), (5, 3))]
    assert r.missing_keys == [] and r.unexpected_keys == []
    assert m[0].bias.tolist() == [7.0, 7.0, 7.0]
    np.testing.assert_array_equal(m[1].weight.detach().numpy(), old.numpy())
    assert "mismatched_keys=[('1.weight', (4, 3), (5, 3))]" in repr(r)


def test_load_state_dict_assign():
    m = nn.Linear(2, 2)
    m.bias.requires_grad_(False)
    new_w = ember.full((2, 2), 3.0)
    m.load_state_dict({"weight": new_w, "bias": ember.zeros(2)}, assign=True)
    assert isinstance(m.weight, nn.Parameter) and m.weight.requires_grad and not m.bias.requires_grad
    with ember.no_grad():
        new_w.fill_(4.0)
    assert m.weight.tolist() == [[4.0, 4.0], [4.0, 4.0]]   # assigned, not copied


def test_batchnorm_loads_checkpoint_without_num_batches_tracked():
    bn = nn.BatchNorm1d(3)
    sd = bn.state_dict()
    del sd["num_batches_tracked"]
    assert bn.load_state_dict(sd).missing_keys == []


def test_to_dtype_converts_and_keeps_buffers_ints():
    m = Net()
    m(ember.ones(1, 3)).sum().backward()
    out = m.to(ember.float64)
    assert out is m
    assert all(p.dtype == ember.float64 for p in m.parameters())
    assert all(p.grad.dtype == ember.float64 for p in m.parameters())
    assert all(isinstance(p, nn.Parameter) and p.requires_grad for p in m.parameters())
    assert m.steps.dtype == ember.float64
    bn = nn.BatchNorm1d(2).double()
    assert bn.num_batches_tracked.dtype == ember.int64 and bn.running_mean.dtype == ember.float64
    assert m.float().fc1.weight.dtype == ember.float32
    with pytest.raises(TypeError, match="floating point"):
        m.to(ember.int64)
    assert m(ember.ones(1, 3)).dtype == ember.float32


def test_to_dtype_keeps_parameter_identity():
    m = nn.Linear(2, 2)
    w = m.weight
    m.double()
    assert m.weight is w and w.dtype == ember.float64


def test_deepcopy_module():
    m = Net()
    m2 = copy.deepcopy(m)
    assert m2.fc1.weight is not m.fc1.weight
    np.testing.assert_array_equal(m2.fc1.weight.detach().numpy(), m.fc1.weight.detach().numpy())
    with ember.no_grad():
        m2.fc1.weight.fill_(0.0)
    assert m.fc1.weight.abs().sum().item() > 0


def test_forward_pre_and_post_hooks():
    m = nn.Linear(2, 2)
    calls = []
    h1 = m.register_forward_pre_hook(lambda mod, args: (args[0] * 0,))
    h2 = m.register_forward_hook(lambda mod, args, out: calls.append("post") or out + 1)
    h3 = m.register_forward_hook(lambda mod, args, out: calls.append("first"), prepend=True)
    out = m(ember.ones(3, 2))
    assert calls == ["first", "post"]
    np.testing.assert_allclose(out.detach().numpy(), (m.bias + 1).detach().numpy()[None].repeat(3, 0), rtol=1e-6)
    for h in (h1, h2, h3):
        h.remove()
    h1.remove()
    np.testing.assert_allclose(m(ember.ones(1, 2)).detach().numpy(),
                               (m.weight.sum(1) + m.bias).detach().numpy()[None], rtol=1e-6)
    # with_kwargs
    seen = {}

    def pre(mod, args, kwargs):
        seen["kw"] = dict(kwargs)
        return args, kwargs

    class K(nn.Module):
        def forward(self, x, scale=1.0):
            return x * scale

    k = K()
    k.register_forward_pre_hook(pre, with_kwargs=True)
    k.register_forward_hook(lambda mod, args, kwargs, out: out + kwargs["scale"], with_kwargs=True)
    assert k(ember.ones(1), scale=3.0).item() == 6.0 and seen["kw"] == {"scale": 3.0}
    with m.register_forward_hook(lambda *a: calls.append("ctx")):
        m(ember.ones(1, 2))
    m(ember.ones(1, 2))
    assert calls.count("ctx") == 1


def test_full_backward_hooks():
    m = nn.Linear(3, 2)
    got = {}

    def hook(mod, gin, gout):
        got["gin"], got["gout"] = gin, gout

    def pre(mod, gout):
        got["pre"] = gout
        return (gout[0] * 2,)

    m.register_full_backward_hook(hook)
    m.register_full_backward_pre_hook(pre)
    x = ember.randn(4, 3, dtype=ember.float32).requires_grad_()
    out = m(x)
    g = ember.randn(4, 2)
    out.backward(g)
    assert len(got["pre"]) == 1
    np.testing.assert_allclose(got["pre"][0].numpy(), g.numpy())
    np.testing.assert_allclose(got["gout"][0].numpy(), 2 * g.numpy())
    expected_gin = (2 * g).numpy() @ m.weight.detach().numpy()
    assert len(got["gin"]) == 1
    np.testing.assert_allclose(got["gin"][0].numpy(), expected_gin, rtol=1e-5)
    np.testing.assert_allclose(x.grad.numpy(), expected_gin, rtol=1e-5)
    np.testing.assert_allclose(m.weight.grad.numpy(), (2 * g).numpy().T @ x.detach().numpy(), rtol=1e-5)


def test_full_backward_hook_replaces_grad_input_and_handles_non_tensor_args():
    class Two(nn.Module):
        def forward(self, a, flag, b):
            return a * b

    m = Two()
    seen = {}

    def hook(mod, gin, gout):
        seen["gin"] = gin
        return (gin[0] * 10, None, gin[2])

    h = m.register_full_backward_hook(hook)
    a = ember.tensor([1.0, 2.0]).requires_grad_()
    b = ember.tensor([3.0, 4.0]).requires_grad_()
    m(a, "x", b).sum().backward()
    assert seen["gin"][1] is None and len(seen["gin"]) == 3
    assert seen["gin"][0].tolist() == [3.0, 4.0]
    assert a.grad.tolist() == [30.0, 40.0] and b.grad.tolist() == [1.0, 2.0]
    h.remove()
    a2 = ember.tensor([1.0]).requires_grad_()
    m(a2, None, ember.tensor([5.0])).sum().backward()
    assert a2.grad.tolist() == [5.0]


def test_full_backward_hook_without_input_grad():
    m = nn.Linear(2, 1)
    seen = {}
    m.register_full_backward_hook(lambda mod, gin, gout: seen.update(gin=gin, gout=gout))
    m(ember.ones(3, 2)).sum().backward()
    assert seen["gin"] == (None,) and seen["gout"][0].shape == (3, 1)
    assert m.weight.grad.tolist() == [[3.0, 3.0]]


def test_nested_repr():
    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(3, 8, 3, padding=1, bias=False)
            self.bn = nn.BatchNorm2d(8)
            self.act = nn.ReLU(inplace=True)

    model = nn.Sequential(OrderedDict([("stem", Block()), ("pool", nn.AdaptiveAvgPool2d(1)), ("flat", nn.Flatten()),
                                       ("heads", nn.ModuleList([nn.Linear(8, 2), nn.Linear(8, 2)])),
                                       ("drop", nn.Dropout(0.25))]))
    expected = """Sequential(
  (stem): Block(
    (conv): Conv2d(3, 8, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1), bias=False)
    (bn): BatchNorm2d(8, eps=1e-05, momentum=0.1, affine=True, bias=True, track_running_stats=True)
    (act): ReLU(inplace=True)
  )
  (pool): AdaptiveAvgPool2d(output_size=1)
  (flat): Flatten(start_dim=1, end_dim=-1)
  (heads): ModuleList(
    (0-1): 2 x Linear(in_features=8, out_features=2, bias=True)
  )
  (drop): Dropout(p=0.25, inplace=False)
)"""
    assert repr(model) == expected
    assert repr(nn.Module()) == "Module()"


def test_forward_not_implemented():
    with pytest.raises(NotImplementedError, match="forward"):
        nn.Module()(ember.ones(1))
