# Compiles one source with -fsyntax-only and checks the outcome.
#
#   cmake -DCXX=<compiler> -DSOURCE=<file.cpp> -DMODE=fail|pass
#         [-DINCLUDES=dir|dir...] [-DDEFINES=X|Y=1...] [-DIMPLICIT=dir|dir...]
#         -P check_compile.cmake
#
# MODE=pass: the source must compile (exit 0).
# MODE=fail: the compiler must exit non-zero AND every expectation written in
# the source must hold. Expectations are comment lines:
#
#   // expect-error: <regex>
#       a CMake regex that must match somewhere in the compiler output
#       (use it for the rule text; both compilers quote the static_assert text);
#       \n stands for a newline, e.g. [^\n]* stays within one line
#   // expect-check: <rule><name=value, name=value, ...>
#       the failing rule and the numbers it was instantiated with. Written once,
#       matched in either compiler's spelling:
#         g++:     rule() [with int layer = 2; constnet::op kind = ...; int n = 6]
#         clang++: rule<2, constnet::op::conv2d, 'h', 6, 7, 0, 1>
#       (all template arguments, in order: clang prints values without names)
#   // expect-errors: <N>
#       exactly N diagnostics "file:line:col: error: ..." (no cascade of errors)
#
# A fail-mode source without any expect-error/expect-check is a harness error.
# On any mismatch the full compiler output is printed.
#
# To see a source's diagnostics under clang as well, run this script by hand
# with -DCXX=clang++ (the expectations are written to match both).

cmake_minimum_required(VERSION 3.24)  # script mode: modern policies (IN_LIST, ...)

foreach(var CXX SOURCE MODE)
  if(NOT DEFINED ${var} OR "${${var}}" STREQUAL "")
    message(FATAL_ERROR "check_compile.cmake: -D${var}=... is required")
  endif()
endforeach()
if(NOT MODE MATCHES "^(pass|fail)$")
  message(FATAL_ERROR "check_compile.cmake: MODE must be pass or fail, not '${MODE}'")
endif()

# Untranslated diagnostics with plain quotes, whatever the caller's locale.
set(ENV{LC_ALL} C)
set(ENV{LANG} C)

# INCLUDES/DEFINES come from the target's usage requirements (transitive, so
# Boost's and fmt's entries are in them, often /usr/include). Passing a
# compiler's own system directory as -I breaks #include_next in libstdc++, so
# implicit directories are dropped.
set(args -std=c++20 -fsyntax-only)
string(REPLACE "|" ";" includes "${INCLUDES}")
string(REPLACE "|" ";" implicit "${IMPLICIT}")
list(REMOVE_DUPLICATES includes)
foreach(dir IN LISTS includes)
  if(dir STREQUAL "" OR dir IN_LIST implicit)
    continue()
  endif()
  list(APPEND args "-I${dir}")
endforeach()
string(REPLACE "|" ";" defines "${DEFINES}")
foreach(def IN LISTS defines)
  if(NOT def STREQUAL "")
    list(APPEND args "-D${def}")
  endif()
endforeach()

execute_process(
  COMMAND "${CXX}" ${args} "${SOURCE}"
  RESULT_VARIABLE rc
  OUTPUT_VARIABLE out
  ERROR_VARIABLE out)

get_filename_component(name "${SOURCE}" NAME)

function(fail why)
  message("---- compiler output (${CXX}) ----\n${out}---- end of compiler output ----")
  message(FATAL_ERROR "${name}: ${why}")
endfunction()

if(MODE STREQUAL "pass")
  if(NOT rc EQUAL 0)
    fail("expected to compile, but the compiler exited with ${rc}")
  endif()
  message(STATUS "${name}: compiles, as expected")
  return()
endif()

if(rc EQUAL 0)
  fail("expected a compile error, but it compiled")
endif()

# Builds the regex for one `rule<name=value, ...>` in both compilers' spellings.
function(check_regex spec out_var)
  set(arg "[A-Za-z_][A-Za-z_0-9]*=[-A-Za-z_0-9:']+")
  if(NOT spec MATCHES "^([A-Za-z_][A-Za-z_0-9]*)<(${arg}(, ${arg})*)>$")
    message(FATAL_ERROR "${name}: malformed expect-check '${spec}' "
                        "(want rule<name=value, ...>, values made of [-A-Za-z_0-9:'])")
  endif()
  set(rule "${CMAKE_MATCH_1}")
  string(REPLACE ", " ";" pairs "${CMAKE_MATCH_2}")
  set(gcc "")
  set(clang "")
  foreach(pair IN LISTS pairs)
    string(REGEX MATCH "^([^=]+)=(.*)$" _ "${pair}")
    if(NOT gcc STREQUAL "")
      string(APPEND gcc "; ")
      string(APPEND clang ", ")
    endif()
    string(APPEND gcc "[A-Za-z_:]+ ${CMAKE_MATCH_1} = ${CMAKE_MATCH_2}")
    string(APPEND clang "${CMAKE_MATCH_2}")
  endforeach()
  set(${out_var} "${rule}(\\(\\) \\[with ${gcc}\\]|<${clang}>)" PARENT_SCOPE)
endfunction()

# Walk the `// expect-...:` lines without CMake lists: regexes may hold ';'
# and unbalanced '[', which CMake's list splitting mangles.
file(READ "${SOURCE}" rest)
set(checked 0)
set(problems "")
while(rest MATCHES "// expect-([a-z-]+):[ ]*([^\r\n]*)")
  set(kind "${CMAKE_MATCH_1}")
  set(value "${CMAKE_MATCH_2}")
  string(FIND "${rest}" "${CMAKE_MATCH_0}" pos)
  string(LENGTH "${CMAKE_MATCH_0}" len)
  math(EXPR pos "${pos} + ${len}")
  string(SUBSTRING "${rest}" ${pos} -1 rest)
  string(REGEX REPLACE "[ \t]+$" "" value "${value}")
  set(shown "${value}")
  string(REPLACE "\\n" "\n" value "${value}")  # a comment cannot hold a newline

  if(kind STREQUAL "error")
    math(EXPR checked "${checked} + 1")
    if(NOT out MATCHES "${value}")
      string(APPEND problems "\n  no match for expect-error: ${shown}")
    endif()
  elseif(kind STREQUAL "check")
    math(EXPR checked "${checked} + 1")
    check_regex("${value}" regex)
    if(NOT out MATCHES "${regex}")
      string(APPEND problems "\n  no match for expect-check: ${value}\n    (regex: ${regex})")
    endif()
  elseif(kind STREQUAL "errors")
    if(NOT value MATCHES "^[0-9]+$")
      message(FATAL_ERROR "${name}: expect-errors takes a number, not '${value}'")
    endif()
    string(REGEX MATCHALL ": (fatal )?error: " hits "${out}")
    list(LENGTH hits count)
    if(NOT count EQUAL value)
      string(APPEND problems "\n  expected exactly ${value} error(s), the compiler reported ${count}")
    endif()
  else()
    message(FATAL_ERROR "${name}: unknown expectation 'expect-${kind}'")
  endif()
endwhile()

if(checked EQUAL 0)
  message(FATAL_ERROR "${name}: a compile-fail source needs at least one "
                      "'// expect-error:' or '// expect-check:' line")
endif()
if(NOT problems STREQUAL "")
  fail("the compile error is not the expected one:${problems}")
endif()
message(STATUS "${name}: fails to compile with the expected message")
