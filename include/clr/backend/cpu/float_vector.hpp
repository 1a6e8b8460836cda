// The CPU kernels' vector of floats, a GCC/Clang vector extension rather than intrinsics: the
// same code compiles to zmm registers under -march=native on AVX-512 machines and to
// narrower ones elsewhere (CI's sanitizer build), so every build runs and tests it. Loads
// and stores go through memcpy, which compiles to one unaligned vector move.
#pragma once

namespace clr::cpu_impl {

constexpr int kVectorFloats = 16;
using FloatVector = float __attribute__((vector_size(kVectorFloats * sizeof(float))));

// `T` a FloatVector or a float, so that one loop body serves whole vectors and the
// remainder past them. Vectors go in and out by reference: passed or returned by value, a
// build without AVX-512 (CLR_NATIVE=OFF) warns that the ABI changes with the instruction set.
template <class T>
void load_floats(T& value, const float* from) {
  __builtin_memcpy(&value, from, sizeof(T));
}

template <class T>
void store_floats(float* to, const T& value) {
  __builtin_memcpy(to, &value, sizeof(T));
}

}  // namespace clr::cpu_impl
