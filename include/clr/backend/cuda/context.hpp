// The CUDA backend's process-wide state (one cuBLAS handle and one stream on the device
// current at first use) and the checks that turn CUDA and cuBLAS failures into clr::Error.
//
// Every primitive is enqueued on the one stream, so they run in program order without
// any synchronisation between them; only the copies to and from the host wait. One
// device per process for now: a program that switches devices after the first call
// still talks to the first one's stream.
#pragma once

#include <cublas_v2.h>
#include <cuda_runtime_api.h>

#include <exception>
#include <utility>

#include "clr/core/error.hpp"

namespace clr::cuda_impl {

// "cuda: <call> failed: <runtime's reason>"; `what` names the call and its arguments.
template <class... What>
void check(cudaError_t status, What&&... what) {
  if (status == cudaSuccess) return;
  // A failed call is also recorded as the runtime's last error; cleared here so that the
  // next launch check reports its own launch, not this failure a second time.
  (void)cudaGetLastError();
  throw Error(detail::concat("cuda: ", std::forward<What>(what)...,
                             " failed: ", cudaGetErrorString(status)));
}

template <class... What>
void check(cublasStatus_t status, What&&... what) {
  if (status == CUBLAS_STATUS_SUCCESS) return;
  throw Error(detail::concat("cuda: ", std::forward<What>(what)...,
                             " failed: ", cublasGetStatusName(status), " (",
                             cublasGetStatusString(status), ")"));
}

// A bad launch configuration is reported by cudaGetLastError right away; a fault inside
// the kernel only surfaces at the next call that waits for the stream.
inline void check_launch(const char* kernel) {
  check(cudaGetLastError(), "launching the ", kernel, " kernel");
}

class Context {
 public:
  // Created on first use, thread-safe as a function-local static. Never destroyed: at
  // exit the CUDA runtime may be torn down before static destructors run, and the driver
  // releases the handle and the stream with the process anyway.
  static Context& get() {
    static auto* const context = new Context();
    return *context;
  }

  cudaStream_t stream() const { return stream_; }
  cublasHandle_t blas() const { return blas_; }

 private:
  Context() {
    check(cudaStreamCreate(&stream_), "cudaStreamCreate");
    try {
      check(cublasCreate(&blas_), "cublasCreate");
      check(cublasSetStream(blas_, stream_), "cublasSetStream");
      // Scalars (alpha, beta) are read from host memory at the call, so callers pass locals.
      check(cublasSetPointerMode(blas_, CUBLAS_POINTER_MODE_HOST), "cublasSetPointerMode");
      // Plain FP32, no TF32 tensor cores: GEMMs agree with the CPU backend to float rounding.
      check(cublasSetMathMode(blas_, CUBLAS_DEFAULT_MATH), "cublasSetMathMode");
    } catch (...) {
      if (blas_ != nullptr) cublasDestroy(blas_);
      cudaStreamDestroy(stream_);
      throw;
    }
  }

  // Blocking with respect to the legacy default stream, so work a user enqueues there
  // stays ordered with ours.
  cudaStream_t stream_ = nullptr;
  cublasHandle_t blas_ = nullptr;
};

// Whether a device is usable: a driver, at least one GPU, and the context can be made.
// Never throws; probed once, since tests ask before every case.
inline bool device_available() noexcept {
  static const bool available = [] {
    int count = 0;
    if (cudaGetDeviceCount(&count) != cudaSuccess || count < 1) {
      (void)cudaGetLastError();
      return false;
    }
    try {
      Context::get();
      return true;
    } catch (const std::exception&) {
      return false;
    }
  }();
  return available;
}

}  // namespace clr::cuda_impl
