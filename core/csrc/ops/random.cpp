#include "random.h"

#include "../autograd/record.h"

#include <chrono>
#include <cmath>
#include <cstring>
#include <limits>
#include <random>

#include "creation.h"
#include "elementwise.h"

namespace ember {

DispatchStub<UniformKernel> uniform_stub("uniform_");
DispatchStub<NormalKernel> normal_stub("normal_");
DispatchStub<ExponentialKernel> exponential_stub("exponential_");
DispatchStub<RandintKernel> randint_stub("random_");
DispatchStub<BernoulliKernel> bernoulli_stub("bernoulli");
DispatchStub<RandpermKernel> randperm_stub("randperm");
DispatchStub<MultinomialKernel> multinomial_stub("multinomial");

// ---- Generator ------------------------------------------------------------------------

uint64_t nondeterministic_seed() {
  std::random_device rd;
  uint64_t s = (uint64_t(rd()) << 32) ^ uint64_t(rd());
  s ^= uint64_t(std::chrono::high_resolution_clock::now().time_since_epoch().count()) * 0x9E3779B97F4A7C15ull;
  return s;
}

void Generator::manual_seed(uint64_t seed) {
  std::lock_guard<std::mutex> g(mu_);
  seed_ = seed;
  offset_ = 0;
}

uint64_t Generator::seed() {
  uint64_t s = nondeterministic_seed();
  manual_seed(s);
  return s;
}

uint64_t Generator::initial_seed() const {
  std::lock_guard<std::mutex> g(mu_);
  return seed_;
}

PhiloxKey Generator::next() {
  std::lock_guard<std::mutex> g(mu_);
  return PhiloxKey{seed_, offset_++};
}

std::vector<uint8_t> Generator::get_state() const {
  std::lock_guard<std::mutex> g(mu_);
  std::vector<uint8_t> s(kStateBytes);
  for (int i = 0; i < 8; ++i) {
    s[i] = uint8_t(seed_ >> (8 * i));
    s[8 + i] = uint8_t(offset_ >> (8 * i));
  }
  return s;
}

void Generator::set_state(const uint8_t* p, size_t n, const char* op) {
  EMBER_CHECK(n == kStateBytes, ValueError, "[", op, "] expected a state of ", kStateBytes,
              " bytes (from get_state / get_rng_state), got ", n);
  uint64_t s = 0, o = 0;
  for (int i = 0; i < 8; ++i) {
    s |= uint64_t(p[i]) << (8 * i);
    o |= uint64_t(p[8 + i]) << (8 * i);
  }
  std::lock_guard<std::mutex> g(mu_);
  seed_ = s;
  offset_ = o;
}

const GeneratorPtr& cuda_default_generator(int index) {
  static auto* gens = [] {  // leaked: outlives static tensors
    auto* v = new std::vector<GeneratorPtr>();
    for (int i = 0; i < std::max(1, cuda_device_count()); ++i)
      v->push_back(std::make_shared<Generator>(67280421310721ull, Device(DeviceType::CUDA, i)));
    return v;
  }();
  EMBER_CHECK(index >= 0 && index < int(gens->size()), ValueError, "[cuda] invalid device ordinal for a generator: ",
              index);
  return (*gens)[size_t(index)];
}

const GeneratorPtr& default_generator() {
  static const GeneratorPtr g = std::make_shared<Generator>(nondeterministic_seed());
  return g;
}

// ---- front ends -----------------------------------------------------------------------

namespace {

Generator& gen_of(const GeneratorPtr& g) { return g ? *g : *default_generator(); }
// The generator for a tensor on `d`: the given one, else the device's default.
Generator& gen_of(const GeneratorPtr& g, Device d) {
  if (g) return *g;
  return d.is_cuda() ? *cuda_default_generator(d.index) : *default_generator();
}

void check_writable(const char* op, const Tensor& t) {
  for (int64_t d = 0; d < t.dim(); ++d)
    EMBER_CHECK(t.strides()[d] != 0 || t.sizes()[d] <= 1, ValueError, "[", op,
                "] cannot write into an expanded tensor: dimension ", d, " has stride 0; call .clone() first");
}

void check_float(const char* op, ScalarType t) {
  EMBER_CHECK(is_floating(t), TypeError, "[", op, "] unsupported dtype: expected a floating point dtype, got ", t);
}

// Runs k(c) on t if it is contiguous, else on a contiguous temporary copied into t.
template <typename K>
Tensor fill_random(const char* op, const Tensor& t, K&& k) {
  check_writable(op, t);
  if (t.numel() == 0) return t;
  if (t.is_contiguous()) {
    k(t);
    t.bump_version();
  } else {
    Tensor tmp = empty(t.sizes(), t.dtype(), t.device());
    k(tmp);
    copy_(t, tmp);
  }
  return t;
}

// Largest integer the dtype holds exactly (floats: 2^mantissa digits).
int64_t dtype_max(ScalarType t) {
  switch (t) {
    case ScalarType::Bool: return 1;
    case ScalarType::UInt8: return 255;
    case ScalarType::Int8: return 127;
    case ScalarType::Int16: return 32767;
    case ScalarType::Int32: return 2147483647;
    case ScalarType::Int64: return std::numeric_limits<int64_t>::max();
    case ScalarType::Float16: return int64_t(1) << 11;
    case ScalarType::BFloat16: return int64_t(1) << 8;
    case ScalarType::Float32: return int64_t(1) << 24;
    case ScalarType::Float64: return int64_t(1) << 53;
    default: return 0;
  }
}
int64_t dtype_min(ScalarType t) {
  switch (t) {
    case ScalarType::Bool:
    case ScalarType::UInt8: return 0;
    case ScalarType::Int8: return -128;
    case ScalarType::Int16: return -32768;
    case ScalarType::Int32: return -2147483648LL;
    case ScalarType::Int64: return std::numeric_limits<int64_t>::min();
    default: return -dtype_max(t);
  }
}

// A CPU copy of t as contiguous float64 (for checks and the kernels that take probabilities).
Tensor as_f64(const Tensor& t) { return contiguous(to_dtype(t, ScalarType::Float64)); }

}  // namespace

static Tensor uniform_impl(const Tensor& t, double from, double to, const GeneratorPtr& gen) {
  check_float("uniform_", t.dtype());
  EMBER_CHECK(std::isfinite(from) && std::isfinite(to), ValueError, "[uniform_] expected finite bounds, got from=",
              from, ", to=", to);
  EMBER_CHECK(from <= to, ValueError, "[uniform_] expected a [from, to) range with from <= to, got from=", from,
              ", to=", to);
  EMBER_CHECK(std::isfinite(to - from), ValueError, "[uniform_] to - from overflows: got from=", from, ", to=", to);
  PhiloxKey key = gen_of(gen, t.device()).next();
  return fill_random("uniform_", t, [&](const Tensor& c) { uniform_stub(c.device(), c, key, from, to); });
}

static Tensor normal_impl(const Tensor& t, double mean, double std, const GeneratorPtr& gen) {
  check_float("normal_", t.dtype());
  EMBER_CHECK(std >= 0.0, ValueError, "[normal_] expected std >= 0, got ", std);
  EMBER_CHECK(std::isfinite(mean) && std::isfinite(std), ValueError, "[normal_] expected finite mean and std, got ",
              mean, " and ", std);
  PhiloxKey key = gen_of(gen, t.device()).next();
  return fill_random("normal_", t, [&](const Tensor& c) { normal_stub(c.device(), c, key, mean, std); });
}

static Tensor exponential_impl(const Tensor& t, double lambd, const GeneratorPtr& gen) {
  check_float("exponential_", t.dtype());
  EMBER_CHECK(lambd > 0.0, ValueError, "[exponential_] expected lambd > 0, got ", lambd);
  PhiloxKey key = gen_of(gen, t.device()).next();
  return fill_random("exponential_", t, [&](const Tensor& c) { exponential_stub(c.device(), c, key, lambd); });
}

static Tensor random_impl(const Tensor& t, std::optional<int64_t> from_, std::optional<int64_t> to_, const GeneratorPtr& gen) {
  const ScalarType dt = t.dtype();
  EMBER_CHECK(!is_complex(dt), TypeError, "[random_] unsupported dtype: expected a real dtype, got ", dt);
  const int64_t lo = from_ ? *from_ : 0;
  uint64_t range;
  if (to_) {
    EMBER_CHECK(lo < *to_, ValueError, "[random_] expected 'from' to be less than 'to', got from=", lo, " >= to=", *to_);
    EMBER_CHECK(lo >= dtype_min(dt) && *to_ - 1 <= dtype_max(dt), ValueError, "[random_] the range [", lo, ", ", *to_,
                ") is out of bounds for ", dt, ": expected values in [", dtype_min(dt), ", ", dtype_max(dt), "]");
    range = uint64_t(*to_) - uint64_t(lo);
  } else {
    const int64_t hi = dtype_max(dt);
    EMBER_CHECK(lo >= dtype_min(dt) && lo <= hi, ValueError, "[random_] 'from' (", lo, ") is out of bounds for ", dt);
    range = uint64_t(hi) - uint64_t(lo) + 1;  // 0 when it wraps: all 2^64 values
  }
  PhiloxKey key = gen_of(gen, t.device()).next();
  return fill_random("random_", t, [&](const Tensor& c) { randint_stub(c.device(), c, key, lo, range); });
}

static Tensor bernoulli_impl(const Tensor& t, const Tensor* p, double p_scalar, const GeneratorPtr& gen) {
  EMBER_CHECK(!is_complex(t.dtype()), TypeError, "[bernoulli_] unsupported dtype: expected a real dtype, got ",
              t.dtype());
  Tensor pf;
  if (p) {
    EMBER_CHECK(is_floating(p->dtype()), TypeError, "[bernoulli] expected a floating point probability tensor, got ",
                p->dtype());
    Shape bs = broadcast_shapes("bernoulli_", p->sizes(), t.sizes());
    EMBER_CHECK(bs == t.sizes(), ValueError, "[bernoulli_] p of shape ", p->sizes(),
                " cannot be broadcast to the tensor's shape ", t.sizes());
    Tensor pe = empty(t.sizes(), ScalarType::Float64, t.device());
    copy_(pe, *p);
    pf = pe;
  } else {
    EMBER_CHECK(p_scalar >= 0.0 && p_scalar <= 1.0, ValueError, "[bernoulli_] expected p in [0, 1], got p=", p_scalar);
  }
  PhiloxKey key = gen_of(gen, t.device()).next();
  return fill_random("bernoulli_", t, [&](const Tensor& c) {
    int err = bernoulli_stub(c.device(), c, key, p ? &pf : nullptr, p_scalar);
    EMBER_CHECK(err == 0, ValueError, "[bernoulli] expected all probabilities in [0, 1], got values outside");
  });
}

// A tensor made by a factory starts at version 0 (its fill is not a user's in-place write).
static Tensor fresh(Tensor t) {
  t.impl()->version->version.store(0);
  return t;
}

Tensor rand(const Shape& size, ScalarType dtype, const GeneratorPtr& gen, Device device) {
  check_float("rand", dtype);
  return fresh(uniform_(empty(size, dtype, device), 0.0, 1.0, gen));
}

Tensor randn(const Shape& size, ScalarType dtype, const GeneratorPtr& gen, Device device) {
  check_float("randn", dtype);
  return fresh(normal_(empty(size, dtype, device), 0.0, 1.0, gen));
}

Tensor randint(int64_t low, int64_t high, const Shape& size, ScalarType dtype, const GeneratorPtr& gen, Device device) {
  EMBER_CHECK(low < high, ValueError, "[randint] expected low < high, got low=", low, ", high=", high);
  return fresh(random_(empty(size, dtype, device), low, high, gen));
}

Tensor randperm(int64_t n, ScalarType dtype, const GeneratorPtr& gen, Device device) {
  EMBER_CHECK(n >= 0, ValueError, "[randperm] expected a non-negative n, got ", n);
  EMBER_CHECK(!is_complex(dtype) && dtype != ScalarType::Bool, TypeError,
              "[randperm] unsupported dtype: expected an integer or floating point dtype, got ", dtype);
  EMBER_CHECK(n == 0 || n - 1 <= dtype_max(dtype), ValueError, "[randperm] n=", n, " is too large for ", dtype);
  Tensor r = empty({n}, ScalarType::Int64, device);
  PhiloxKey key = gen_of(gen, r.device()).next();
  if (n > 0) randperm_stub(r.device(), r, key);
  return dtype == ScalarType::Int64 ? r : to_dtype(r, dtype);
}

Tensor normal(const Tensor& mean, const Tensor& std, const GeneratorPtr& gen, const Tensor* out) {
  ScalarType dt = result_type({mean, std});
  EMBER_CHECK(is_floating(dt), TypeError, "[normal] expected floating point mean and std, got ", mean.dtype(),
              " and ", std.dtype());
  Shape shape = broadcast_shapes("normal", mean.sizes(), std.sizes());
  if (std.numel() > 0 && std.device().is_cpu()) {
    Tensor s = as_f64(std);
    const double* p = s.data<double>();
    for (int64_t i = 0; i < s.numel(); ++i)
      EMBER_CHECK(p[i] >= 0.0, ValueError, "[normal] expected all elements of std >= 0, got ", p[i]);
  }
  Device dev = mean.is_wrapped_number() ? std.device() : mean.device();
  Tensor z = normal_(empty(shape, dt, dev), 0.0, 1.0, gen);
  Tensor r = binary(BinaryOp::add, binary(BinaryOp::mul, z, std), mean, {1.0});
  if (r.dtype() != dt) r = to_dtype(r, dt);
  if (!out) return r;
  EMBER_CHECK(out->sizes() == shape, ValueError, "[normal] output has the wrong shape: expected ", shape, ", got ",
              out->sizes());
  copy_(*out, r);
  return *out;
}

Tensor bernoulli(const Tensor& p, const GeneratorPtr& gen, const Tensor* out) {
  EMBER_CHECK(is_floating(p.dtype()), TypeError, "[bernoulli] expected a floating point probability tensor, got ",
              p.dtype());
  Tensor r = out ? *out : empty(p.sizes(), p.dtype(), p.device());
  if (out)
    EMBER_CHECK(out->sizes() == p.sizes(), ValueError, "[bernoulli] output has the wrong shape: expected ", p.sizes(),
                ", got ", out->sizes());
  return bernoulli_(r, &p, 0.0, gen);
}

Tensor multinomial(const Tensor& probs, int64_t n, bool replacement, const GeneratorPtr& gen, const Tensor* out) {
  EMBER_CHECK(probs.dim() == 1 || probs.dim() == 2, ValueError, "[multinomial] expected a 1-D or 2-D probability "
              "tensor, got ", probs.dim(), "-D");
  EMBER_CHECK(is_floating(probs.dtype()), TypeError, "[multinomial] expected a floating point probability tensor, got ",
              probs.dtype());
  EMBER_CHECK(n > 0, ValueError, "[multinomial] expected a positive number of samples, got ", n);
  const int64_t cats = probs.sizes()[probs.dim() - 1];
  const int64_t rows = probs.dim() == 2 ? probs.sizes()[0] : 1;
  EMBER_CHECK(cats > 0, ValueError, "[multinomial] expected at least one category, got 0");
  EMBER_CHECK(replacement || n <= cats, ValueError, "[multinomial] cannot sample n=", n, " > ", cats,
              " categories without replacement");
  Shape shape = probs.dim() == 2 ? Shape{rows, n} : Shape{n};
  if (out) {
    EMBER_CHECK(out->sizes() == shape, ValueError, "[multinomial] output has the wrong shape: expected ", shape,
                ", got ", out->sizes());
    EMBER_CHECK(out->dtype() == ScalarType::Int64, TypeError, "[multinomial] expected out to have dtype ember.int64, got ",
                out->dtype());
  }
  Tensor pf = as_f64(probs);
  pf = make_view(pf, {rows, cats}, {cats, 1}, pf.offset());
  Tensor r = empty({rows, n}, ScalarType::Int64, probs.device());
  PhiloxKey key = gen_of(gen, probs.device()).next();
  int err = rows > 0 ? multinomial_stub(probs.device(), r, pf, key, n, replacement) : 0;
  EMBER_CHECK(err != 1, ValueError, "[multinomial] probability tensor contains either inf, nan or element < 0");
  EMBER_CHECK(err != 2, ValueError, "[multinomial] invalid multinomial distribution (sum of probabilities <= 0)");
  EMBER_CHECK(err != 3, ValueError, "[multinomial] invalid multinomial distribution: without replacement, expected at "
              "least n=", n, " categories with non-zero probability in every row");
  Tensor res = make_view(r, shape, contiguous_strides(shape), 0);
  if (!out) return res;
  copy_(*out, res);
  return *out;
}


// ---- autograd: refilling a tensor in place cuts its history (no gradient flows back) ------------
namespace {
template <typename F>
Tensor refill(const char* op, const Tensor& t, F run) {
  autograd::Recorder rec(op, {t}, &t);
  run();
  if (rec) {
    rec.set_outputs({t});
    rec.node().fn = [](autograd::FnNode&, autograd::variable_list&) { return autograd::variable_list{Tensor()}; };
  }
  return t;
}
}  // namespace
Tensor uniform_(const Tensor& t, double from, double to, const GeneratorPtr& gen) {
  return refill("uniform_", t, [&] { return uniform_impl(t, from, to, gen); });
}
Tensor normal_(const Tensor& t, double mean, double std, const GeneratorPtr& gen) {
  return refill("normal_", t, [&] { return normal_impl(t, mean, std, gen); });
}
Tensor exponential_(const Tensor& t, double lambd, const GeneratorPtr& gen) {
  return refill("exponential_", t, [&] { return exponential_impl(t, lambd, gen); });
}
Tensor random_(const Tensor& t, std::optional<int64_t> from_, std::optional<int64_t> to_, const GeneratorPtr& gen) {
  return refill("random_", t, [&] { return random_impl(t, from_, to_, gen); });
}
Tensor bernoulli_(const Tensor& t, const Tensor* p, double p_scalar, const GeneratorPtr& gen) {
  return refill("bernoulli_", t, [&] { return bernoulli_impl(t, p, p_scalar, gen); });
}

}  // namespace ember
