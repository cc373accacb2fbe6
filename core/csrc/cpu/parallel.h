// The one intra-op thread pool (OpenMP). Ops split work with parallel_for; nested regions
// and forked children run serially; BLAS calls made inside a region are single-threaded.
#pragma once
#include <cstdint>

namespace ember {

constexpr int64_t kGrainSize = 32768;  // elements per task below which threads do not pay

// Items per task when each item costs `work` elements of work: about kGrainSize per task.
inline int64_t grain_for(int64_t work) { return work >= kGrainSize ? 1 : kGrainSize / (work > 0 ? work : 1); }

int get_num_threads();
void set_num_threads(int n);
bool in_parallel_region();

namespace detail {
void parallel_run(int64_t begin, int64_t end, int64_t grain, void (*fn)(void*, int64_t, int64_t), void* ctx);
}

// f(b, e) over disjoint sub-ranges of [begin, end), each at least `grain` long.
template <typename F>
void parallel_for(int64_t begin, int64_t end, int64_t grain, const F& f) {
  if (end <= begin) return;
  if (end - begin <= grain || get_num_threads() == 1 || in_parallel_region()) {
    f(begin, end);
    return;
  }
  detail::parallel_run(
      begin, end, grain,
      [](void* c, int64_t b, int64_t e) { (*static_cast<const F*>(c))(b, e); },
      const_cast<void*>(static_cast<const void*>(&f)));
}

// Runs BLAS single-threaded while alive: create it before a parallel region whose tasks call BLAS.
struct BlasSerialGuard {
  int prev;
  BlasSerialGuard();
  ~BlasSerialGuard();
};

}  // namespace ember
