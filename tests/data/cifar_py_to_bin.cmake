# tools/cifar_py_to_bin.py converts fake torchvision pickles; cifar_roundtrip_check reads
# the result with clr's CIFAR reader. It needs a python3 with numpy: the first python3 on
# PATH if it has numpy, else Debian's /usr/bin/python3 (python3-numpy); with neither, the
# test reports itself skipped.
add_executable(cifar_roundtrip_check data/cifar_roundtrip_check.cpp)
clr_project_target(cifar_roundtrip_check)

find_program(CLR_PATH_PYTHON3 python3)
set(clr_numpy_python "${CLR_PATH_PYTHON3}")
foreach(candidate ${CLR_PATH_PYTHON3} /usr/bin/python3)
  if(EXISTS "${candidate}")
    execute_process(COMMAND ${candidate} -c "import numpy" RESULT_VARIABLE status
                    OUTPUT_QUIET ERROR_QUIET)
    if(status EQUAL 0)
      set(clr_numpy_python ${candidate})
      break()
    endif()
  endif()
endforeach()

if(clr_numpy_python)
  add_test(NAME cifar_py_to_bin
           COMMAND ${clr_numpy_python} ${CMAKE_CURRENT_SOURCE_DIR}/data/test_cifar_py_to_bin.py
                   ${PROJECT_SOURCE_DIR}/tools/cifar_py_to_bin.py
                   $<TARGET_FILE:cifar_roundtrip_check>)
  set_tests_properties(cifar_py_to_bin PROPERTIES SKIP_RETURN_CODE 77)
else()
  message(STATUS "cifar_py_to_bin test left out: no python3")
endif()
