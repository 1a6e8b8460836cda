// The CUDA backend's memory primitives: device allocations, counted, and copies that are
// ordered on the context's stream.
#pragma once

#include <cuda_runtime_api.h>

#include <cstddef>
#include <cstdint>

#include "clr/backend/cuda/context.hpp"
#include "clr/core/memory_stats.hpp"

namespace clr::cuda_impl {

struct Memory {
  static MemoryCounter& memory() {
    static MemoryCounter counter;
    return counter;
  }

  static void* allocate(std::int64_t bytes) {
    void* p = nullptr;
    check(cudaMalloc(&p, static_cast<std::size_t>(bytes)), "cudaMalloc(", bytes, " bytes)");
    memory().on_allocate(bytes);
    return p;
  }

  // Called from destructors, so it cannot throw. cudaFree waits for the device first, so
  // kernels still reading the memory finish before it is released. It fails only when
  // the context is already broken (the next checked call reports that) or the runtime is
  // gone at exit (the process is releasing everything anyway).
  static void deallocate(void* p, std::int64_t bytes) {
    if (cudaFree(p) != cudaSuccess) (void)cudaGetLastError();
    memory().on_free(bytes);
  }

  static void copy(void* dst, const void* src, std::int64_t bytes) {
    check(cudaMemcpyAsync(dst, src, static_cast<std::size_t>(bytes), cudaMemcpyDeviceToDevice,
                          Context::get().stream()),
          "cudaMemcpyAsync(", bytes, " bytes, device to device)");
  }

  // Waits for the copy: the caller may free or reuse the host buffer as soon as this
  // returns (pinned memory would otherwise still be read by the DMA engine).
  static void copy_from_host(void* dst, const void* src, std::int64_t bytes) {
    const cudaStream_t stream = Context::get().stream();
    check(
        cudaMemcpyAsync(dst, src, static_cast<std::size_t>(bytes), cudaMemcpyHostToDevice, stream),
        "cudaMemcpyAsync(", bytes, " bytes, host to device)");
    check(cudaStreamSynchronize(stream), "cudaStreamSynchronize after a copy to the device");
  }

  // Waits for the copy and for everything enqueued before it, so the host sees results.
  static void copy_to_host(void* dst, const void* src, std::int64_t bytes) {
    const cudaStream_t stream = Context::get().stream();
    check(
        cudaMemcpyAsync(dst, src, static_cast<std::size_t>(bytes), cudaMemcpyDeviceToHost, stream),
        "cudaMemcpyAsync(", bytes, " bytes, device to host)");
    check(cudaStreamSynchronize(stream), "cudaStreamSynchronize after a copy to the host");
  }

  static void synchronize() {
    check(cudaStreamSynchronize(Context::get().stream()), "cudaStreamSynchronize");
  }
};

}  // namespace clr::cuda_impl
