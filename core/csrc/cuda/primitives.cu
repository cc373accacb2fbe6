// The device-wide building blocks of cuda/primitives.cuh: scratch memory and small transfers,
// the stable segmented sort and the inclusive scan.
//
// Sort: each row is cut into tiles of 2048 keys, sorted in shared memory by a bitonic network
// on (key, position) pairs (the position breaks ties, which makes the result stable), then
// runs are merged pairwise in global memory, log2(n / 2048) passes: every element finds its
// place in the merged run with one binary search in the other run. Rows shorter than a tile
// share a block (segments of the next power of two).
//
// Scan: tiles of 1024 int64 values (a warp-shuffle scan per block), the tile totals scanned
// the same way, then added back.
#include "primitives.cuh"

#include "../ops/creation.h"

namespace ember {
namespace cuda {

int current_device_here() {
  int dev = 0;
  check_cuda(cudaGetDevice(&dev), "cudaGetDevice");
  return dev;
}

Tensor scratch(int64_t bytes) {
  return empty({std::max<int64_t>(bytes, 1)}, ScalarType::UInt8, Device(DeviceType::CUDA, current_device_here()));
}

void upload(void* dst, const void* src, size_t bytes) {
  if (bytes) check_cuda(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyHostToDevice, current_stream_here()), "cudaMemcpyAsync");
}

void read_back(void* dst, const void* src, size_t bytes) {
  cudaStream_t s = current_stream_here();
  if (bytes) check_cuda(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToHost, s), "cudaMemcpyAsync");
  check_cuda(cudaStreamSynchronize(s), "cudaStreamSynchronize");
}

void memset_async(void* dst, int value, size_t bytes) {
  if (bytes) check_cuda(cudaMemsetAsync(dst, value, bytes, current_stream_here()), "cudaMemsetAsync");
}

namespace {

// ---- sort ---------------------------------------------------------------------------------------
constexpr int kTile = 2048;
constexpr int kTileThreads = 1024;

template <typename K>
__device__ __forceinline__ bool pair_less(K ka, int32_t ia, K kb, int32_t ib) {
  return ka < kb || (ka == kb && ia < ib);
}

// Sorts segments of p (a power of two <= kTile) slots; segment g of the whole launch is tile
// (g % tiles_per_row) of row (g / tiles_per_row). Slots past the row's end hold (max, max).
template <typename K>
__global__ void __launch_bounds__(kTileThreads)
    tile_sort_kernel(K* keys, int32_t* pos, int64_t rows, int64_t n, int p, int64_t tiles_per_row) {
  // reads keys only (an element's position is its index in the row); writes keys and pos
  __shared__ K sk[kTile];
  __shared__ int32_t si[kTile];
  const int per_block = kTile / p;
  for (int t = threadIdx.x; t < kTile; t += kTileThreads) {
    const int64_t g = int64_t(blockIdx.x) * per_block + t / p;
    const int64_t row = g / tiles_per_row, at = (g % tiles_per_row) * p + t % p;
    if (row < rows && at < n) {
      sk[t] = keys[row * n + at];
      si[t] = int32_t(at);
    } else {
      sk[t] = K(~K(0));
      si[t] = INT32_MAX;
    }
  }
  __syncthreads();
  for (int k = 2; k <= p; k <<= 1) {
    for (int j = k >> 1; j > 0; j >>= 1) {
      for (int t = threadIdx.x; t < kTile; t += kTileThreads) {
        const int u = t ^ j;
        if (u > t) {
          const bool up = k == p || (t & k) == 0;  // every segment ends ascending
          const bool swap = up ? pair_less(sk[u], si[u], sk[t], si[t]) : pair_less(sk[t], si[t], sk[u], si[u]);
          if (swap) {
            const K kk = sk[t];
            sk[t] = sk[u];
            sk[u] = kk;
            const int32_t ii = si[t];
            si[t] = si[u];
            si[u] = ii;
          }
        }
      }
      __syncthreads();
    }
  }
  for (int t = threadIdx.x; t < kTile; t += kTileThreads) {
    const int64_t g = int64_t(blockIdx.x) * per_block + t / p;
    const int64_t row = g / tiles_per_row, at = (g % tiles_per_row) * p + t % p;
    if (row < rows && at < n) {
      keys[row * n + at] = sk[t];
      pos[row * n + at] = si[t];
    }
  }
}

// One merge pass: sorted runs of w elements (per row) merge pairwise into runs of 2w.
template <typename K>
__global__ void merge_pass_kernel(const K* ki, const int32_t* pi, K* ko, int32_t* po, int64_t rows, int64_t n,
                                  int64_t w) {
  const int64_t e = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  if (e >= rows * n) return;
  const int64_t row = e / n, i = e % n;
  const int64_t run = i / w, start = run * w;
  const bool left = (run & 1) == 0;
  const int64_t other = left ? start + w : start - w;
  const K k = ki[e];
  const int32_t p = pi[e];
  const int64_t base = row * n;
  if (left && other >= n) {  // the last run has no partner
    ko[e] = k;
    po[e] = p;
    return;
  }
  const int64_t olen = left ? std::min<int64_t>(w, n - other) : w;
  // elements of the other run below (k, p); (key, position) pairs are all distinct
  int64_t lo = 0, hi = olen;
  while (lo < hi) {
    const int64_t mid = (lo + hi) >> 1;
    if (pair_less(ki[base + other + mid], pi[base + other + mid], k, p)) lo = mid + 1;
    else hi = mid;
  }
  const int64_t dest = (left ? start : other) + (i - start) + lo;
  ko[base + dest] = k;
  po[base + dest] = p;
}

// ---- scan ---------------------------------------------------------------------------------------
constexpr int kScanThreads = 256;
constexpr int kScanItems = 4;
constexpr int kScanTile = kScanThreads * kScanItems;

__global__ void __launch_bounds__(kScanThreads)
    scan_tile_kernel(const int64_t* in, int64_t* out, int64_t n, int64_t* tile_sums) {
  __shared__ int64_t warp_sums[kScanThreads / 32];
  const int64_t base = int64_t(blockIdx.x) * kScanTile + int64_t(threadIdx.x) * kScanItems;
  int64_t v[kScanItems];
  int64_t run = 0;
#pragma unroll
  for (int k = 0; k < kScanItems; ++k) {
    run += base + k < n ? in[base + k] : 0;
    v[k] = run;
  }
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  int64_t t = run;
#pragma unroll
  for (int o = 1; o < 32; o <<= 1) {
    const int64_t y = __shfl_up_sync(0xFFFFFFFFu, t, o);
    if (lane >= o) t += y;
  }
  if (lane == 31) warp_sums[warp] = t;
  __syncthreads();
  if (warp == 0) {
    int64_t s = lane < kScanThreads / 32 ? warp_sums[lane] : 0;
#pragma unroll
    for (int o = 1; o < 32; o <<= 1) {
      const int64_t y = __shfl_up_sync(0xFFFFFFFFu, s, o);
      if (lane >= o) s += y;
    }
    if (lane < kScanThreads / 32) warp_sums[lane] = s;
  }
  __syncthreads();
  const int64_t prefix = (t - run) + (warp > 0 ? warp_sums[warp - 1] : 0);
#pragma unroll
  for (int k = 0; k < kScanItems; ++k)
    if (base + k < n) out[base + k] = v[k] + prefix;
  if (threadIdx.x == kScanThreads - 1) tile_sums[blockIdx.x] = prefix + run;
}

__global__ void scan_add_kernel(int64_t* out, int64_t n, const int64_t* tile_sums) {
  const int64_t i = int64_t(blockIdx.x) * 256 + threadIdx.x;
  const int64_t tile = i / kScanTile;
  if (i < n && tile > 0) out[i] += tile_sums[tile - 1];
}

}  // namespace

template <typename K>
void segmented_sort(K* keys, int32_t* pos, int64_t rows, int64_t n) {
  if (rows == 0 || n == 0) return;
  EMBER_CHECK(n < INT32_MAX, NotImplementedError, "[sort] CUDA sorts take rows of fewer than 2^31 elements, got ", n);
  cudaStream_t s = current_stream_here();
  int p = 1;
  while (p < n && p < kTile) p <<= 1;
  const int64_t tiles_per_row = (n + p - 1) / p;
  const int64_t segments = rows * tiles_per_row;
  const int64_t blocks = (segments + (kTile / p) - 1) / (kTile / p);
  EMBER_CHECK(blocks <= INT32_MAX, NotImplementedError, "[sort] too many rows for one CUDA launch");
  tile_sort_kernel<K><<<unsigned(blocks), kTileThreads, 0, s>>>(keys, pos, rows, n, p, tiles_per_row);
  check_launch("sort");
  if (n <= kTile) return;
  Tensor hk, hp;
  K* k2 = scratch_ptr<K>(hk, rows * n);
  int32_t* p2 = scratch_ptr<int32_t>(hp, rows * n);
  K *ka = keys, *kb = k2;
  int32_t *pa = pos, *pb = p2;
  for (int64_t w = kTile; w < n; w <<= 1) {
    merge_pass_kernel<K><<<blocks_for(rows * n, 256), 256, 0, s>>>(ka, pa, kb, pb, rows, n, w);
    check_launch("sort");
    std::swap(ka, kb);
    std::swap(pa, pb);
  }
  if (ka != keys) {
    check_cuda(cudaMemcpyAsync(keys, ka, size_t(rows * n) * sizeof(K), cudaMemcpyDeviceToDevice, s), "cudaMemcpyAsync");
    check_cuda(cudaMemcpyAsync(pos, pa, size_t(rows * n) * sizeof(int32_t), cudaMemcpyDeviceToDevice, s),
               "cudaMemcpyAsync");
  }
}
template void segmented_sort<uint32_t>(uint32_t*, int32_t*, int64_t, int64_t);
template void segmented_sort<uint64_t>(uint64_t*, int32_t*, int64_t, int64_t);

void inclusive_scan(const int64_t* in, int64_t* out, int64_t n) {
  if (n <= 0) return;
  cudaStream_t s = current_stream_here();
  const int64_t tiles = (n + kScanTile - 1) / kScanTile;
  Tensor h;
  int64_t* sums = scratch_ptr<int64_t>(h, tiles);
  scan_tile_kernel<<<unsigned(tiles), kScanThreads, 0, s>>>(in, out, n, sums);
  check_launch("scan");
  if (tiles == 1) return;
  inclusive_scan(sums, sums, tiles);
  scan_add_kernel<<<blocks_for(n, 256), 256, 0, s>>>(out, n, sums);
  check_launch("scan");
}

}  // namespace cuda
}  // namespace ember
