#include "parallel.h"

#include <omp.h>
#include <pthread.h>

#include <algorithm>
#include <atomic>
#include <exception>
#include <thread>

#include "../tensor/error.h"

extern "C" {
void scipy_openblas_set_num_threads(int);
int scipy_openblas_get_num_threads(void);
}

namespace ember {

namespace {
std::atomic<int> g_num_threads{0};
std::atomic<bool> g_forked_child{false};
thread_local int t_in_region = 0;

int default_threads() {
  int n = omp_get_max_threads();
  return std::max(1, n);
}

struct ForkHook {
  ForkHook() {
    // libgomp's pool does not survive fork(): a child that enters a parallel region after
    // the parent used one hangs. Children therefore run every op on one thread.
    pthread_atfork(nullptr, nullptr, [] { g_forked_child = true; g_num_threads = 1; });
  }
} g_fork_hook;
}  // namespace

int get_num_threads() {
  int n = g_num_threads.load(std::memory_order_relaxed);
  if (n == 0) {
    n = default_threads();
    g_num_threads = n;
  }
  return n;
}

void set_num_threads(int n) {
  EMBER_CHECK(n >= 1, ValueError, "[set_num_threads] expected a positive number of threads, got ", n);
  if (g_forked_child) n = 1;
  g_num_threads = n;
  // BLAS runs serial inside ember's own pool (cpu/linalg_kernels.cpp splits big GEMMs).
  scipy_openblas_set_num_threads(1);
}

bool in_parallel_region() { return t_in_region > 0 || g_forked_child.load(std::memory_order_relaxed); }

namespace detail {
void parallel_run(int64_t begin, int64_t end, int64_t grain, void (*fn)(void*, int64_t, int64_t), void* ctx) {
  int64_t n = end - begin;
  int64_t max_tasks = (n + grain - 1) / grain;
  int nthreads = int(std::min<int64_t>(get_num_threads(), max_tasks));
  std::exception_ptr err;
  std::atomic<bool> failed{false};
#pragma omp parallel num_threads(nthreads)
  {
    int tid = omp_get_thread_num();
    int nt = omp_get_num_threads();
    int64_t chunk = (n + nt - 1) / nt;
    int64_t b = begin + tid * chunk;
    int64_t e = std::min(end, b + chunk);
    if (b < e) {
      ++t_in_region;
      try {
        fn(ctx, b, e);
      } catch (...) {
        if (!failed.exchange(true)) err = std::current_exception();
      }
      --t_in_region;
    }
  }
  if (err) std::rethrow_exception(err);
}
}  // namespace detail

// The wheel's OpenBLAS has no per-thread setting, so the guard narrows the BLAS pool to one
// thread for the duration of a parallel region that calls BLAS (create it outside the region).
// set_num_threads keeps that pool at one thread anyway; the guard also covers callers that
// raised it through OpenBLAS directly.
BlasSerialGuard::BlasSerialGuard() {
  prev = scipy_openblas_get_num_threads();
  if (prev != 1) scipy_openblas_set_num_threads(1);
}
BlasSerialGuard::~BlasSerialGuard() {
  if (prev != 1) scipy_openblas_set_num_threads(prev);
}

}  // namespace ember
