# A test executable checked against PyTorch case files (tests/parity,
# tests/gradients). A generator script run with Debian's /usr/bin/python3
# (python3-torch; the python3 on PATH may lack torch) writes the cases into
# <binary dir>/cases as a ctest fixture, and the executable's Catch tests read
# them from the directory named by an environment variable.
#
#   constnet_pytorch_case_tests(<target> <source> <generator.py> <prefix> <fixture> <env var>)
#
# builds <target> from main.cpp and <source> (with tests/common, for
# case_files.hpp, on its include path), adds the test <prefix>.<generator
# name> that runs <generator.py> (in the calling directory) as the fixture
# setup <fixture>, and discovers <target>'s tests under "<prefix>." requiring
# <fixture>, with <env var> set to the cases directory. All are labelled parity.
include(Catch)
set(constnet_test_common_dir ${CMAKE_CURRENT_LIST_DIR})

function(constnet_pytorch_case_tests target source generator prefix fixture env_var)
  add_executable(${target} main.cpp ${source})
  target_include_directories(${target} PRIVATE ${constnet_test_common_dir})
  target_link_libraries(${target} PRIVATE
    constnet::codegen constnet::runtime nlohmann_json::nlohmann_json Catch2::Catch2 constnet_warnings)

  set(case_dir ${CMAKE_CURRENT_BINARY_DIR}/cases)
  get_filename_component(generator_name ${generator} NAME_WE)
  add_test(NAME ${prefix}.${generator_name}
    COMMAND /usr/bin/python3 ${CMAKE_CURRENT_SOURCE_DIR}/${generator} ${case_dir})
  set_tests_properties(${prefix}.${generator_name} PROPERTIES FIXTURES_SETUP ${fixture} LABELS parity)

  catch_discover_tests(${target}
    TEST_PREFIX "${prefix}."
    EXTRA_ARGS -w NoTests
    PROPERTIES
      ENVIRONMENT ${env_var}=${case_dir}
      FIXTURES_REQUIRED ${fixture}
      LABELS parity)
endfunction()
