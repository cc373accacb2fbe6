// Run-time loading of cuBLAS (see cublas.h): the path found by ember/cuda.py in an installed
// nvidia-cublas wheel, else $EMBER_CUBLAS_PATH, else the dynamic loader's search for
// libcublas.so.13. One handle per (thread, device), as cuBLAS handles are not safe to share
// between threads using different streams.
#include "cublas.h"

#include <dlfcn.h>

#include <cstdlib>
#include <map>
#include <mutex>
#include <vector>

#include "cuda_common.h"

namespace ember {
namespace cuda {

namespace {

using Status = int;
struct Api {
  Status (*create)(cublas::Handle*) = nullptr;
  Status (*set_stream)(cublas::Handle, cudaStream_t) = nullptr;
  const char* (*status_string)(Status) = nullptr;
  Status (*gemm_sbex)(cublas::Handle, int, int, int, int, int, const void*, const void*, cudaDataType, int, long long,
                      const void*, cudaDataType, int, long long, const void*, void*, cudaDataType, int, long long, int,
                      int, int) = nullptr;
  std::string path;
};

std::mutex g_mu;
std::map<std::string, std::string> g_paths;  // set_library_path

const Api& api() {
  static Api a;
  static std::string error;
  static std::once_flag once;
  std::call_once(once, [] {
    std::vector<std::string> tries;
    {
      std::lock_guard<std::mutex> g(g_mu);
      auto it = g_paths.find("cublas");
      if (it != g_paths.end()) tries.push_back(it->second);
    }
    if (const char* env = std::getenv("EMBER_CUBLAS_PATH")) tries.insert(tries.begin(), env);
    tries.push_back("libcublas.so.13");
    void* lib = nullptr;
    std::string why;
    for (const std::string& t : tries) {
      lib = dlopen(t.c_str(), RTLD_NOW | RTLD_LOCAL);
      if (lib) {
        a.path = t;
        break;
      }
      const char* e = dlerror();
      why += str("\n  ", t, ": ", e ? e : "not found");
    }
    if (!lib) {
      error = str("cuBLAS (libcublas.so.13) could not be loaded; GPU matrix products need it. Install it with "
                  "`pip install \"ember[cuda]\"` (the nvidia-cublas wheel) or point EMBER_CUBLAS_PATH at "
                  "libcublas.so.13. Tried:", why);
      return;
    }
    auto sym = [&](auto& fn, const char* name) {
      fn = reinterpret_cast<std::remove_reference_t<decltype(fn)>>(dlsym(lib, name));
      if (!fn && error.empty()) error = str("cuBLAS at ", a.path, " lacks ", name, ": expected CUDA 13's cuBLAS");
    };
    sym(a.create, "cublasCreate_v2");
    sym(a.set_stream, "cublasSetStream_v2");
    sym(a.status_string, "cublasGetStatusString");
    sym(a.gemm_sbex, "cublasGemmStridedBatchedEx");
  });
  if (!error.empty()) throw Error(error);
  return a;
}

void check(const char* op, const char* what, Status s) {
  if (s == 0) return;
  const char* msg = api().status_string ? api().status_string(s) : "unknown";
  throw Error(str("[", op, "] cuBLAS ", what, " failed: ", msg, " (status ", s, ")"));
}

}  // namespace

void set_library_path(const std::string& name, const std::string& path) {
  std::lock_guard<std::mutex> g(g_mu);
  g_paths[name] = path;
}

std::string load_cublas() { return api().path; }

namespace cublas {

Handle handle(const char* op) {
  const Api& a = api();
  thread_local std::map<int, Handle> handles;  // kept for the thread's life (as PyTorch's pool)
  int dev = 0;
  check_cuda(cudaGetDevice(&dev), "cudaGetDevice");
  Handle& h = handles[dev];
  if (!h) check(op, "cublasCreate", a.create(&h));
  check(op, "cublasSetStream", a.set_stream(h, stream_of(dev)));
  return h;
}

void gemm_strided_batched(const char* op, Handle h, Operation ta, Operation tb, int m, int n, int k,
                          const void* alpha, const void* A, cudaDataType at, int lda, long long sa, const void* B,
                          cudaDataType bt, int ldb, long long sb, const void* beta, void* C, cudaDataType ct, int ldc,
                          long long sc, int batch, ComputeType compute) {
  check(op, "cublasGemmStridedBatchedEx",
        api().gemm_sbex(h, ta, tb, m, n, k, alpha, A, at, lda, sa, B, bt, ldb, sb, beta, C, ct, ldc, sc, batch,
                        compute, kGemmDefault));
}

}  // namespace cublas
}  // namespace cuda
}  // namespace ember
