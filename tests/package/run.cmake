# Installs nn from NN_SOURCE_DIR into a staging prefix, then configures, builds and runs the consumer
# project against that prefix only. Any failing step fails the test.
file(REMOVE_RECURSE ${NN_WORK_DIR})
set(stage ${NN_WORK_DIR}/stage)

function(run)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "step failed (${rc}): ${ARGN}\n${out}\n${err}")
  endif()
  message(STATUS "${out}")
endfunction()

run(${CMAKE_COMMAND} -S ${NN_SOURCE_DIR} -B ${NN_WORK_DIR}/nn-build -DCMAKE_CXX_COMPILER=${NN_CXX_COMPILER}
    -DCMAKE_PREFIX_PATH=${NN_PREFIX_PATH} -DCMAKE_INSTALL_PREFIX=${stage}
    -DNN_BUILD_TESTS=OFF -DNN_BUILD_EXAMPLES=OFF -DNN_BUILD_BENCHMARKS=OFF)
run(${CMAKE_COMMAND} --build ${NN_WORK_DIR}/nn-build --target nn-onnx)  # the one program nn installs
run(${CMAKE_COMMAND} --install ${NN_WORK_DIR}/nn-build)
if(NOT EXISTS ${stage}/include/nn/network.hpp OR NOT EXISTS ${stage}/share/cmake/nn/nnConfig.cmake
   OR NOT EXISTS ${stage}/bin/nn-onnx)
  message(FATAL_ERROR "the install did not produce include/nn/network.hpp, share/cmake/nn/nnConfig.cmake and bin/nn-onnx")
endif()
run(${stage}/bin/nn-onnx describe ${NN_SOURCE_DIR}/tests/data/onnx/tiny_mlp.onnx)
run(${CMAKE_COMMAND} -S ${NN_SOURCE_DIR}/tests/package/consumer -B ${NN_WORK_DIR}/consumer-build
    -DCMAKE_CXX_COMPILER=${NN_CXX_COMPILER} "-DCMAKE_PREFIX_PATH=${stage};${NN_PREFIX_PATH}" -DCMAKE_BUILD_TYPE=Release)
run(${CMAKE_COMMAND} --build ${NN_WORK_DIR}/consumer-build)
run(${NN_WORK_DIR}/consumer-build/consumer)
