# Dependencies, all from Debian packages: Eigen 3.4 and OpenMP always; the CUDA toolkit
# (cuBLAS, runtime, NCCL) with CLR_WITH_CUDA; OpenMPI (libopenmpi-dev) with CLR_WITH_MPI.
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

if(CLR_WITH_CUDA)
  # NCCL ships in the CUDA toolkit (include/nccl.h, lib64/libnccl.so); without it the CUDA
  # backend still builds, only clr::dist::Nccl is left out.
  find_path(CLR_NCCL_INCLUDE_DIR nccl.h HINTS ${CUDAToolkit_INCLUDE_DIRS})
  find_library(CLR_NCCL_LIBRARY nccl HINTS ${CUDAToolkit_LIBRARY_DIR})
  if(CLR_NCCL_INCLUDE_DIR AND CLR_NCCL_LIBRARY)
    set(CLR_WITH_NCCL ON)
  else()
    set(CLR_WITH_NCCL OFF)
    message(STATUS "clr: NCCL not found next to the CUDA toolkit: no clr::dist::Nccl")
  endif()
endif()

if(CLR_WITH_MPI)
  enable_language(C)  # FindMPI probes the C bindings with the C compiler
  find_package(MPI REQUIRED COMPONENTS C)
endif()
