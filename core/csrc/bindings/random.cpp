// Random ops: ember.Generator, manual_seed/seed/initial_seed/get_rng_state/set_rng_state,
// rand/randn/randint/randperm/normal/bernoulli/multinomial (+ _like), Tensor.uniform_/
// normal_/random_/bernoulli_/exponential_.
#include "../ops/random.h"

#include <cstring>

#include "../ops/creation.h"
#include "../ops/cuda_hooks.h"
#include "common.h"

namespace ember {

namespace {
using OptT = std::optional<Tensor>;
using OptDT = std::optional<ScalarType>;
using OptDev = std::optional<Device>;

constexpr uint64_t kGeneratorDefaultSeed = 67280421310721ull;  // PyTorch's, for new Generator objects

std::string type_name(py::handle h) { return std::string(py::str(py::type::handle_of(h).attr("__name__"))); }

GeneratorPtr gen_arg(py::handle h) {
  if (h.is_none()) return nullptr;
  EMBER_CHECK(py::isinstance<Generator>(h), TypeError, "[random] expected an ember.Generator for generator, got ",
              type_name(h));
  return h.cast<GeneratorPtr>();
}

uint64_t seed_arg(py::handle h, const char* op) {
  EMBER_CHECK(PyIndex_Check(h.ptr()) && !PyBool_Check(h.ptr()) && !py::isinstance<Tensor>(h), TypeError, "[", op,
              "] expected an int seed, got ", type_name(h));
  py::object v = py::reinterpret_steal<py::object>(PyNumber_Index(h.ptr()));
  int overflow = 0;
  long long s = PyLong_AsLongLongAndOverflow(v.ptr(), &overflow);
  if (!overflow) return uint64_t(s);  // negative seeds wrap, like PyTorch's
  if (overflow > 0) {
    unsigned long long u = PyLong_AsUnsignedLongLong(v.ptr());
    if (!PyErr_Occurred()) return u;
    PyErr_Clear();
  }
  throw ValueError(str("[", op, "] seed must be in [-2**63, 2**64), got ", std::string(py::str(h))));
}

Tensor state_tensor(const Generator& g) {
  auto s = g.get_state();
  Tensor t = empty({int64_t(s.size())}, ScalarType::UInt8);
  std::memcpy(t.raw_data(), s.data(), s.size());
  return t;
}

void set_state(Generator& g, const Tensor& t, const char* op) {
  EMBER_CHECK(t.dtype() == ScalarType::UInt8, TypeError, "[", op, "] expected a uint8 state tensor, got ", t.dtype());
  EMBER_CHECK(t.device().is_cpu(), ValueError, "[", op, "] expected a CPU state tensor, got ", t.device());
  Tensor c = contiguous(t);
  g.set_state(reinterpret_cast<const uint8_t*>(c.raw_data()), size_t(c.numel()), op);
}

Device dev_or_cpu(const OptDev& d) { return d ? *d : Device(); }

// The result of a sized random op, written into out= when given.
template <typename F>
Tensor sized(const char* op, const Shape& size, OptDT dtype, ScalarType def, const OptDev& device, const OptT& out,
             F&& fill) {
  if (out) {
    EMBER_CHECK(out->sizes() == size, ValueError, "[", op, "] output has the wrong shape: expected ", size, ", got ",
                out->sizes());
    EMBER_CHECK(!dtype || *dtype == out->dtype(), TypeError, "[", op, "] dtype ", *dtype,
                " does not match the output's dtype ", out->dtype());
    return nogil([&] { return fill(*out); });
  }
  ScalarType dt = dtype ? *dtype : def;
  Device dev = dev_or_cpu(device);
  return nogil([&] {
    Tensor t = fill(empty(size, dt, dev));
    t.impl()->version->version.store(0);  // a new tensor starts at version 0, as in PyTorch
    return t;
  });
}

double num_arg(py::handle h, const char* op, const char* name) {
  if (auto s = py_scalar(h)) return s->to_double();
  if (py::isinstance<Tensor>(h) && h.cast<Tensor>().numel() == 1) return item(h.cast<Tensor>()).to_double();
  throw TypeError(str("[", op, "] expected a number for ", name, ", got ", type_name(h)));
}

int64_t int_arg(py::handle h, const char* op, const char* name) {
  if (auto s = py_scalar(h)) {
    EMBER_CHECK(s->is_integral() || s->d == std::floor(s->d), TypeError, "[", op, "] expected an integer for ", name,
                ", got ", *s);
    return s->is_integral() ? s->to_int() : int64_t(s->d);
  }
  if (py::isinstance<Tensor>(h) && h.cast<Tensor>().numel() == 1) return item(h.cast<Tensor>()).to_int();
  throw TypeError(str("[", op, "] expected an integer for ", name, ", got ", type_name(h)));
}

// randint(high, size) / randint(low, high, size), also by keyword.
void randint_args(const char* op, py::args args, py::kwargs& kw, size_t skip, int64_t& low, int64_t& high,
                  py::object* size) {
  std::vector<py::object> pos;
  for (size_t i = skip; i < args.size(); ++i) pos.push_back(args[i]);
  auto take = [&](const char* name) -> py::object {
    if (kw.contains(name)) {
      py::object v = kw[name];
      PyDict_DelItemString(kw.ptr(), name);
      return v;
    }
    return py::none();
  };
  py::object lo = take("low"), hi = take("high"), sz = size ? take("size") : py::none();
  if (size && sz.is_none() && !pos.empty()) {  // the size is the last positional argument
    sz = pos.back();
    pos.pop_back();
  }
  if (pos.size() == 2) {
    lo = pos[0];
    hi = pos[1];
  } else if (pos.size() == 1) {
    (hi.is_none() ? hi : lo) = pos[0];
  } else if (!pos.empty()) {
    throw TypeError(str("[", op, "] expected (high", size ? ", size" : "", ") or (low, high", size ? ", size" : "",
                        "), got ", args.size() - skip, " positional arguments"));
  }
  EMBER_CHECK(!hi.is_none(), TypeError, "[", op, "] missing the required argument 'high'");
  low = lo.is_none() ? 0 : int_arg(lo, op, "low");
  high = int_arg(hi, op, "high");
  if (size) {
    EMBER_CHECK(!sz.is_none(), TypeError, "[", op, "] missing the required argument 'size'");
    *size = sz;
  }
}

template <typename T>
T kw_get(py::kwargs& kw, const char* name, T def) {
  if (!kw.contains(name)) return def;
  py::object v = kw[name];
  PyDict_DelItemString(kw.ptr(), name);
  return v.is_none() ? def : v.cast<T>();
}
py::object kw_obj(py::kwargs& kw, const char* name) {
  if (!kw.contains(name)) return py::none();
  py::object v = kw[name];
  PyDict_DelItemString(kw.ptr(), name);
  return v;
}
void no_more(const char* op, const py::kwargs& kw) {
  for (auto item : kw)
    throw TypeError(str("[", op, "] got an unexpected keyword argument '", std::string(py::str(item.first)), "'"));
}

}  // namespace

void init_random(py::module_& m) {
  auto cls = tensor_class(m);

  // ---- generators ----
  py::class_<Generator, GeneratorPtr>(m, "Generator",
      "A Philox4x32-10 random number generator (seed + offset): values depend only on the seed, the number of "
      "random ops drawn before and the element index, not on the thread count.\n\n"
      "Example:\n    >>> g = ember.Generator().manual_seed(0)\n    >>> ember.rand(3, generator=g).shape\n"
      "    (3,)")
      .def(py::init([](py::object device) {
             Device d;
             if (!device.is_none())
               d = py::isinstance<Device>(device) ? device.cast<Device>() : Device(device.cast<std::string>());
             if (d.is_cuda()) d = cuda::normalize(d);  // "cuda": the current device (checks the ordinal)
             return std::make_shared<Generator>(kGeneratorDefaultSeed, d);
           }), py::arg("device") = "cpu")
      .def("manual_seed", [](const GeneratorPtr& g, py::handle seed) {
             g->manual_seed(seed_arg(seed, "manual_seed"));
             return g;
           }, py::arg("seed"), "Sets the seed (and resets the stream); returns the generator.")
      .def("seed", &Generator::seed, "Reseeds from a nondeterministic source; returns the new seed.")
      .def("initial_seed", &Generator::initial_seed, "The seed the generator was last seeded with.")
      .def("get_state", [](const GeneratorPtr& g) { return state_tensor(*g); },
           "The state as a uint8 tensor (16 bytes: seed, offset).")
      .def("set_state", [](const GeneratorPtr& g, const Tensor& t) {
             set_state(*g, t, "set_state");
             return g;
           }, py::arg("new_state"), "Restores a state from get_state(); returns the generator.")
      .def_property_readonly("device", [](const GeneratorPtr& g) { return g->device(); })
      .def("__repr__", [](const GeneratorPtr& g) {
        return "<ember.Generator seed=" + std::to_string(g->initial_seed()) + ">";
      });
  m.attr("default_generator") = default_generator();
  m.def("manual_seed", [](py::handle seed) {
          const uint64_t s = seed_arg(seed, "manual_seed");
          default_generator()->manual_seed(s);
          cuda::manual_seed(s);  // every CUDA device's generator too (no-op without CUDA)
          return default_generator();
        }, py::arg("seed"), R"doc(Seeds the default generator (and resets its stream) and the CUDA devices' generators; returns the default one.

Args:
    seed (int): in [-2**63, 2**64); negative seeds wrap modulo 2**64.

Example:
    >>> _ = ember.manual_seed(0); a = ember.rand(2)
    >>> _ = ember.manual_seed(0); a.tolist() == ember.rand(2).tolist()
    True
)doc");
  m.def("seed", [] { return default_generator()->seed(); },
        "Seeds the default generator nondeterministically; returns the seed.");
  m.def("initial_seed", [] { return default_generator()->initial_seed(); }, "The default generator's seed.");
  m.def("get_rng_state", [] { return state_tensor(*default_generator()); },
        "The default generator's state as a uint8 tensor.");
  m.def("set_rng_state", [](const Tensor& t) { set_state(*default_generator(), t, "set_rng_state"); },
        py::arg("new_state"), "Restores the default generator's state from get_rng_state().");
  m.def("_philox4x32", [](std::array<uint32_t, 4> ctr, std::array<uint32_t, 2> key) {
    philox4x32_10(ctr.data(), key[0], key[1]);
    return ctr;
  }, py::arg("counter"), py::arg("key"), "Philox4x32-10 of one counter (for tests).");

  // ---- sized creation ----
  m.def("rand", [](py::args size, py::object gen, OptT out, OptDT dtype, OptDev device, bool) {
          Shape s = py_shape_args(size, "rand");
          GeneratorPtr g = gen_arg(gen);
          return sized("rand", s, dtype, default_dtype(), device, out, [&](const Tensor& t) {
            EMBER_CHECK(is_floating(t.dtype()), TypeError, "[rand] unsupported dtype: expected a floating point dtype, got ",
                        t.dtype());
            return uniform_(t, 0.0, 1.0, g);
          });
        }, py::kw_only(), py::arg("generator") = py::none(), py::arg("out") = py::none(), py::arg("dtype") = py::none(),
        py::arg("device") = py::none(), py::arg("requires_grad") = false,
        R"doc(Uniform samples in [0, 1).

Args:
    *size (int or sequence): the shape, rand(2, 3) or rand((2, 3)).
    generator (Generator, optional): default: the global generator.
    out (Tensor, optional), dtype (floating point, default float32), device.

Returns:
    Tensor: of the given shape; the values depend only on the generator's seed, the number
    of draws before and the element index (not on the thread count).

Example:
    >>> ember.rand(2, 3, generator=ember.Generator().manual_seed(0)).shape
    (2, 3)
)doc");
  m.def("randn", [](py::args size, py::object gen, OptT out, OptDT dtype, OptDev device, bool) {
          Shape s = py_shape_args(size, "randn");
          GeneratorPtr g = gen_arg(gen);
          return sized("randn", s, dtype, default_dtype(), device, out, [&](const Tensor& t) {
            EMBER_CHECK(is_floating(t.dtype()), TypeError, "[randn] unsupported dtype: expected a floating point dtype, got ",
                        t.dtype());
            return normal_(t, 0.0, 1.0, g);
          });
        }, py::kw_only(), py::arg("generator") = py::none(), py::arg("out") = py::none(), py::arg("dtype") = py::none(),
        py::arg("device") = py::none(), py::arg("requires_grad") = false,
        R"doc(Standard normal samples (Box-Muller over the Philox stream).

Args:
    *size (int or sequence): the shape.
    generator (Generator, optional), out (Tensor, optional), dtype (floating point,
    default float32), device.

Returns:
    Tensor: of the given shape.

Example:
    >>> ember.randn(4, dtype=ember.float64).dtype
    ember.float64
)doc");
  m.def("randint", [](py::args args, py::kwargs kw) {
          int64_t low, high;
          py::object size;
          GeneratorPtr g = gen_arg(kw_obj(kw, "generator"));
          OptT out = kw_get<OptT>(kw, "out", std::nullopt);
          OptDT dtype = kw_get<OptDT>(kw, "dtype", std::nullopt);
          OptDev device = kw_get<OptDev>(kw, "device", std::nullopt);
          kw_obj(kw, "requires_grad");
          randint_args("randint", args, kw, 0, low, high, &size);
          no_more("randint", kw);
          Shape s = py_shape(size, "randint");
          EMBER_CHECK(low < high, ValueError, "[randint] expected low < high, got low=", low, ", high=", high);
          return sized("randint", s, dtype, ScalarType::Int64, device, out,
                       [&](const Tensor& t) { return random_(t, low, high, g); });
        }, R"doc(Uniform integers in [low, high).

Args:
    low (int, default 0), high (int), size (sequence): randint(high, size) or
    randint(low, high, size), also by keyword.
    generator, out, dtype (default int64), device.

Returns:
    Tensor: of shape size.

Example:
    >>> ember.randint(3, 5, (4,)).dtype
    ember.int64
)doc");
  m.def("randperm", [](int64_t n, py::object gen, OptT out, OptDT dtype, OptDev device, bool) {
          GeneratorPtr g = gen_arg(gen);
          ScalarType dt = dtype ? *dtype : (out ? out->dtype() : ScalarType::Int64);
          Tensor r = nogil([&] { return randperm(n, dt, g, dev_or_cpu(device)); });
          if (!out) return r;
          EMBER_CHECK(out->sizes() == r.sizes(), ValueError, "[randperm] output has the wrong shape: expected ", r.sizes(),
                      ", got ", out->sizes());
          nogil([&] { copy_(*out, r); return 0; });
          return *out;
        }, py::arg("n"), py::kw_only(), py::arg("generator") = py::none(), py::arg("out") = py::none(),
        py::arg("dtype") = py::none(), py::arg("device") = py::none(), py::arg("requires_grad") = false,
        "A random permutation of 0 .. n-1.");

  // ---- _like ----
  m.def("rand_like", [](const Tensor& x, OptDT dtype, OptDev device, bool, py::object gen) {
          GeneratorPtr g = gen_arg(gen);
          return nogil([&] { return rand(x.sizes(), dtype ? *dtype : x.dtype(), g, device ? *device : x.device()); });
        }, py::arg("input"), py::kw_only(), py::arg("dtype") = py::none(), py::arg("device") = py::none(),
        py::arg("requires_grad") = false, py::arg("generator") = py::none());
  m.def("randn_like", [](const Tensor& x, OptDT dtype, OptDev device, bool, py::object gen) {
          GeneratorPtr g = gen_arg(gen);
          return nogil([&] { return randn(x.sizes(), dtype ? *dtype : x.dtype(), g, device ? *device : x.device()); });
        }, py::arg("input"), py::kw_only(), py::arg("dtype") = py::none(), py::arg("device") = py::none(),
        py::arg("requires_grad") = false, py::arg("generator") = py::none());
  m.def("randint_like", [](py::args args, py::kwargs kw) {
          EMBER_CHECK(args.size() >= 1 && py::isinstance<Tensor>(args[0]), TypeError,
                      "[randint_like] expected a Tensor as the first argument");
          Tensor x = args[0].cast<Tensor>();
          GeneratorPtr g = gen_arg(kw_obj(kw, "generator"));
          OptDT dtype = kw_get<OptDT>(kw, "dtype", std::nullopt);
          OptDev device = kw_get<OptDev>(kw, "device", std::nullopt);
          kw_obj(kw, "requires_grad");
          int64_t low, high;
          randint_args("randint_like", args, kw, 1, low, high, nullptr);
          no_more("randint_like", kw);
          return nogil([&] { return randint(low, high, x.sizes(), dtype ? *dtype : x.dtype(), g, device ? *device : x.device()); });
        }, "Uniform integers in [low, high) with the shape (and dtype) of input.");

  // ---- normal / bernoulli / multinomial ----
  m.def("normal", [](py::handle mean, py::handle std, py::object size, py::object gen, OptT out, OptDT dtype,
                     OptDev device, bool) -> Tensor {
          GeneratorPtr g = gen_arg(gen);
          bool tm = py::isinstance<Tensor>(mean), ts = py::isinstance<Tensor>(std);
          if (!tm && !ts) {
            EMBER_CHECK(!size.is_none(), TypeError, "[normal] with a number mean and std, expected a size");
            double mu = num_arg(mean, "normal", "mean"), sd = num_arg(std, "normal", "std");
            Shape s = py_shape(size, "normal");
            return sized("normal", s, dtype, default_dtype(), device, out,
                         [&](const Tensor& t) { return normal_(t, mu, sd, g); });
          }
          Tensor m_ = operand(mean, "normal", "mean"), s_ = operand(std, "normal", "std");
          return nogil([&] { return normal(m_, s_, g, out_ptr(out)); });
        }, py::arg("mean"), py::arg("std") = 1.0, py::arg("size") = py::none(), py::kw_only(),
        py::arg("generator") = py::none(), py::arg("out") = py::none(), py::arg("dtype") = py::none(),
        py::arg("device") = py::none(), py::arg("requires_grad") = false,
        "Normal samples with the given mean and std (tensors broadcast, or numbers with a size).");
  m.def("bernoulli", [](const Tensor& x, py::object p, py::object gen, OptT out) {
          GeneratorPtr g = gen_arg(gen);
          if (p.is_none()) return nogil([&] { return bernoulli(x, g, out_ptr(out)); });
          double ps = num_arg(p, "bernoulli", "p");
          Tensor t = out ? *out : empty(x.sizes(), x.dtype(), x.device());
          return nogil([&] { return bernoulli_(t, nullptr, ps, g); });
        }, py::arg("input"), py::arg("p") = py::none(), py::kw_only(), py::arg("generator") = py::none(),
        py::arg("out") = py::none(), "0/1 samples with probabilities input (or the number p), of input's dtype.");
  m.def("multinomial", [](const Tensor& x, int64_t n, bool replacement, py::object gen, OptT out) {
          GeneratorPtr g = gen_arg(gen);
          return nogil([&] { return multinomial(x, n, replacement, g, out_ptr(out)); });
        }, py::arg("input"), py::arg("num_samples"), py::arg("replacement") = false, py::kw_only(),
        py::arg("generator") = py::none(), py::arg("out") = py::none(),
        R"doc(Category indices drawn from the rows of input (non-negative weights, any scale).

Args:
    input (Tensor): (categories,) or (rows, categories), floating point.
    num_samples (int): samples per row.
    replacement (bool, default False): without replacement, no index repeats in a row
        (and zero-weight categories are never drawn).
    generator, out.

Returns:
    Tensor: int64, (num_samples,) or (rows, num_samples).

Example:
    >>> ember.multinomial(ember.tensor([0.0, 1.0]), 1).item()
    1
)doc");

  // ---- Tensor methods ----
  cls.def("uniform_", inplace([](const Tensor& t, double from, double to, py::object gen) {
            GeneratorPtr g = gen_arg(gen);
            return nogil([&] { return uniform_(t, from, to, g); });
          }), py::arg("from") = 0.0, py::arg("to") = 1.0, py::kw_only(), py::arg("generator") = py::none());
  cls.def("normal_", inplace([](const Tensor& t, double mean, double std, py::object gen) {
            GeneratorPtr g = gen_arg(gen);
            return nogil([&] { return normal_(t, mean, std, g); });
          }), py::arg("mean") = 0.0, py::arg("std") = 1.0, py::kw_only(), py::arg("generator") = py::none());
  cls.def("exponential_", inplace([](const Tensor& t, double lambd, py::object gen) {
            GeneratorPtr g = gen_arg(gen);
            return nogil([&] { return exponential_(t, lambd, g); });
          }), py::arg("lambd") = 1.0, py::kw_only(), py::arg("generator") = py::none());
  cls.def("random_", inplace([](const Tensor& t, py::args args, py::kwargs kw) {
            GeneratorPtr g = gen_arg(kw_obj(kw, "generator"));
            py::object from = kw_obj(kw, "from"), to = kw_obj(kw, "to");
            no_more("random_", kw);
            EMBER_CHECK(args.size() <= 2, TypeError, "[random_] expected at most 2 positional arguments, got ", args.size());
            if (args.size() == 1) {
              if (to.is_none()) to = args[0];
              else from = args[0];
            } else if (args.size() == 2) {
              from = args[0];
              to = args[1];
            }
            std::optional<int64_t> f, e;
            if (!from.is_none()) f = int_arg(from, "random_", "from");
            if (!to.is_none()) e = int_arg(to, "random_", "to");
            return nogil([&] { return random_(t, f, e, g); });
          }), "Fills with integers: random_() in [0, max], random_(to) in [0, to), random_(from, to) in [from, to).");
  cls.def("bernoulli_", inplace([](const Tensor& t, py::object p, py::object gen) {
            GeneratorPtr g = gen_arg(gen);
            if (py::isinstance<Tensor>(p)) {
              Tensor pt = p.cast<Tensor>();
              return nogil([&] { return bernoulli_(t, &pt, 0.0, g); });
            }
            double ps = num_arg(p, "bernoulli_", "p");
            return nogil([&] { return bernoulli_(t, nullptr, ps, g); });
          }), py::arg("p") = 0.5, py::kw_only(), py::arg("generator") = py::none());
  cls.def("bernoulli", [](const Tensor& t, py::object p, py::object gen) {
            GeneratorPtr g = gen_arg(gen);
            if (p.is_none()) return nogil([&] { return bernoulli(t, g, nullptr); });
            double ps = num_arg(p, "bernoulli", "p");
            Tensor r = empty(t.sizes(), t.dtype(), t.device());
            return nogil([&] { return bernoulli_(r, nullptr, ps, g); });
          }, py::arg("p") = py::none(), py::kw_only(), py::arg("generator") = py::none());
  cls.def("multinomial", [](const Tensor& x, int64_t n, bool replacement, py::object gen) {
            GeneratorPtr g = gen_arg(gen);
            return nogil([&] { return multinomial(x, n, replacement, g, nullptr); });
          }, py::arg("num_samples"), py::arg("replacement") = false, py::kw_only(), py::arg("generator") = py::none());
}

}  // namespace ember
