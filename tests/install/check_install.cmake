# Installs clr from CLR_SOURCE_DIR into a scratch prefix, then configures, builds and runs
# tests/install/consumer against it: the find_package(clr) path that users take.
file(REMOVE_RECURSE ${CLR_SCRATCH_DIR})
set(prefix ${CLR_SCRATCH_DIR}/prefix)

function(run_step)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE status)
  if(NOT status EQUAL 0)
    string(REPLACE ";" " " command "${ARGN}")
    message(FATAL_ERROR "install_consumer: '${command}' failed (${status})")
  endif()
endfunction()

run_step(${CMAKE_COMMAND} -S ${CLR_SOURCE_DIR} -B ${CLR_SCRATCH_DIR}/clr -G ${CMAKE_GENERATOR}
         -DCLR_BUILD_TESTS=OFF -DCLR_BUILD_EXAMPLES=OFF -DCLR_BUILD_BENCH=OFF
         -DCMAKE_INSTALL_PREFIX=${prefix})
run_step(${CMAKE_COMMAND} --install ${CLR_SCRATCH_DIR}/clr)
run_step(${CMAKE_COMMAND} -S ${CLR_SOURCE_DIR}/tests/install/consumer
         -B ${CLR_SCRATCH_DIR}/consumer -G ${CMAKE_GENERATOR} -DCMAKE_PREFIX_PATH=${prefix}
         -DCMAKE_BUILD_TYPE=Release)
run_step(${CMAKE_COMMAND} --build ${CLR_SCRATCH_DIR}/consumer)
run_step(${CLR_SCRATCH_DIR}/consumer/consumer)
