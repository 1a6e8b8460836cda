# Dependencies, all from Debian packages: Eigen 3.4 and OpenMP always; the CUDA toolkit
# (cuBLAS, runtime) with CLR_WITH_CUDA.
find_package(Eigen3 3.4 REQUIRED NO_MODULE)
find_package(OpenMP REQUIRED COMPONENTS CXX)
# The dataset readers: zlib (zlib1g-dev) for gzipped IDX files, stb_image (libstb-dev, a
# header that clr compiles with internal linkage, see data/detail/stb_image.hpp) for PNG/JPEG.
find_package(ZLIB REQUIRED)
find_path(CLR_STB_INCLUDE_DIR stb/stb_image.h)
if(NOT CLR_STB_INCLUDE_DIR)
  message(FATAL_ERROR "stb/stb_image.h not found: apt-get install libstb-dev")
endif()

if(CLR_WITH_CUDA)
  if(NOT DEFINED CMAKE_CUDA_ARCHITECTURES)
    # Ampere and Hopper; override with -DCMAKE_CUDA_ARCHITECTURES=...
    set(CMAKE_CUDA_ARCHITECTURES 80 90)
  endif()
  if(NOT DEFINED CMAKE_CUDA_COMPILER AND EXISTS /usr/local/cuda/bin/nvcc)
    set(CMAKE_CUDA_COMPILER /usr/local/cuda/bin/nvcc)
  endif()
  # One CUDA runtime in every program: the shared one that CUDA::cudart names.
  set(CMAKE_CUDA_RUNTIME_LIBRARY Shared)
  enable_language(CUDA)
  set(CMAKE_CUDA_STANDARD 20)
  find_package(CUDAToolkit REQUIRED)
endif()
