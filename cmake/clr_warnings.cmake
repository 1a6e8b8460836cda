# clr_project_target(name): the settings of the project's own programs (tests, examples,
# benchmarks): warnings are errors, optionally -march=native and the sanitizers. The
# library target itself imposes none of this on its users.
function(clr_project_target name)
  target_compile_options(${name} PRIVATE
    $<$<COMPILE_LANGUAGE:CXX>:-Wall -Wextra -Wpedantic -Werror>)
  if(CLR_NATIVE)
    target_compile_options(${name} PRIVATE $<$<COMPILE_LANGUAGE:CXX>:-march=native>)
    if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND CMAKE_CXX_COMPILER_VERSION VERSION_LESS 13)
      # GCC 12's own avx512fintrin.h trips -W(maybe-)uninitialized (its _mm512_undefined_*
      # self-initialisation, GCC bug 105593) wherever Eigen's AVX-512 kernels inline. The
      # CLR_NATIVE=OFF builds (CI's sanitizer build) keep both warnings for our own code.
      target_compile_options(${name} PRIVATE
        $<$<COMPILE_LANGUAGE:CXX>:-Wno-maybe-uninitialized -Wno-uninitialized>)
    endif()
  endif()
  if(CLR_SANITIZE)
    target_compile_options(${name} PRIVATE
      $<$<COMPILE_LANGUAGE:CXX>:-fsanitize=address,undefined -fno-omit-frame-pointer
                                -fno-sanitize-recover=all>)
    target_link_options(${name} PRIVATE -fsanitize=address,undefined)
  endif()
  target_link_libraries(${name} PRIVATE clr::clr)
  if(CLR_WITH_CUDA)
    target_link_libraries(${name} PRIVATE clr::cuda)
  endif()
  if(CLR_WITH_MPI)
    target_link_libraries(${name} PRIVATE clr::mpi)
  endif()
endfunction()
