# The README's C++ example must be examples/readme.cpp verbatim (so what the
# README shows is what compiles), and the program must run.
file(READ "${README}" readme)
file(READ "${SOURCE}" source)
string(REGEX REPLACE "^// [^\n]*\n" "" body "${source}")  # the file's first comment line is not in the README
string(FIND "${readme}" "${body}" at)
if(at EQUAL -1)
  message(FATAL_ERROR "README.md does not show examples/readme.cpp as it is; update one from the other")
endif()
execute_process(COMMAND "${PROGRAM}" OUTPUT_VARIABLE out RESULT_VARIABLE rc)
if(NOT rc EQUAL 0 OR NOT out MATCHES "logits: 256 x 10")
  message(FATAL_ERROR "the README example failed (${rc}): ${out}")
endif()
