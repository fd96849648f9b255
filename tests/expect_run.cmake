# Runs EXE with ARGS ('|' between them) and requires its exit status to be STATUS and what it printed
# (standard output, then standard error) to match the regular expression EXPECT.
string(REPLACE "|" ";" args "${ARGS}")
execute_process(COMMAND "${EXE}" ${args} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc STREQUAL "${STATUS}")
  message(FATAL_ERROR "${EXE} ${args}: exit status ${rc}, expected ${STATUS}\n${out}${err}")
endif()
if(NOT "${out}${err}" MATCHES "${EXPECT}")
  message(FATAL_ERROR "${EXE} ${args} printed\n${out}${err}\nwhich does not match\n${EXPECT}")
endif()
message(STATUS "${out}${err}")
