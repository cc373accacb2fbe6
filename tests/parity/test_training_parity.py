"""End to end against PyTorch: the same model with the same initial weights, trained for a few
steps on the same batches with the same optimizer and schedule, ends with the same parameters
(float64), in training mode with BatchNorm running statistics."""
import numpy as np
import pytest
import torch

import ember


def cnn(nn):
    return nn.Sequential(nn.Conv2d(1, 6, 3, padding=1), nn.BatchNorm2d(6), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(6, 8, 3, groups=2), nn.GroupNorm(2, 8), nn.GELU(), nn.Flatten(),
                         nn.Linear(8 * 2 * 2, 16), nn.LayerNorm(16), nn.Tanh(), nn.Linear(16, 5))


def transformer(nn):
    return nn.Sequential(nn.Linear(6, 16), nn.TransformerEncoder(
        nn.TransformerEncoderLayer(16, 4, 32, dropout=0.0, batch_first=True), 2), nn.Flatten(), nn.Linear(16 * 5, 5))


def copy_weights(src, dst):
    dst.load_state_dict({k: ember.from_numpy(v.detach().numpy().copy()) for k, v in src.state_dict().items()})


@pytest.mark.parametrize("build,shape", [(cnn, (8, 1, 8, 8)), (transformer, (8, 5, 6))])
@pytest.mark.parametrize("opt", ["sgd", "adamw"])
def test_training_steps_match_torch(build, shape, opt):
    torch.manual_seed(0)
    tm = build(torch.nn).double()
    em = build(ember.nn).double()
    copy_weights(tm, em)
    if opt == "sgd":
        to = torch.optim.SGD(tm.parameters(), lr=0.05, momentum=0.9, nesterov=True, weight_decay=1e-3)
        eo = ember.optim.SGD(em.parameters(), lr=0.05, momentum=0.9, nesterov=True, weight_decay=1e-3)
    else:
        to = torch.optim.AdamW(tm.parameters(), lr=1e-2, weight_decay=0.1, amsgrad=True)
        eo = ember.optim.AdamW(em.parameters(), lr=1e-2, weight_decay=0.1, amsgrad=True)
    ts = torch.optim.lr_scheduler.OneCycleLR(to, max_lr=0.05, total_steps=10)
    es = ember.optim.lr_scheduler.OneCycleLR(eo, max_lr=0.05, total_steps=10)
    rng = np.random.default_rng(1)
    for step in range(6):
        x = rng.standard_normal(shape)
        y = rng.integers(0, 5, shape[0])
        lt = torch.nn.functional.cross_entropy(tm(torch.from_numpy(x)), torch.from_numpy(y), label_smoothing=0.1)
        le = ember.nn.functional.cross_entropy(em(ember.from_numpy(x)), ember.from_numpy(y), label_smoothing=0.1)
        assert abs(lt.item() - le.item()) < 1e-9 * max(1.0, abs(lt.item()))
        to.zero_grad()
        eo.zero_grad()
        lt.backward()
        le.backward()
        torch.nn.utils.clip_grad_norm_(tm.parameters(), 1.0)
        ember.nn.utils.clip_grad_norm_(em.parameters(), 1.0)
        to.step()
        eo.step()
        ts.step()
        es.step()
    tsd, esd = tm.state_dict(), em.state_dict()
    assert list(tsd) == list(esd)
    for k in tsd:
        np.testing.assert_allclose(esd[k].numpy(), tsd[k].detach().numpy(), rtol=1e-8, atol=1e-10, err_msg=k)
