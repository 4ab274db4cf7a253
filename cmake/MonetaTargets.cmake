# moneta_library(<name> SOURCES ... [DEPS ...] [PRIVATE_DEPS ...])
#   Builds libs/<name> as target moneta_<name> (alias moneta::<name>) with public headers in
#   include/ and private sources in src/.
function(moneta_library name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS;PRIVATE_DEPS" ${ARGN})
  add_library(moneta_${name} STATIC ${ARG_SOURCES})
  add_library(moneta::${name} ALIAS moneta_${name})
  target_include_directories(moneta_${name} PUBLIC ${CMAKE_CURRENT_SOURCE_DIR}/include
                                            PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/src)
  target_link_libraries(moneta_${name} PUBLIC ${ARG_DEPS} PRIVATE ${ARG_PRIVATE_DEPS})
  moneta_warnings(moneta_${name})
endfunction()

# moneta_test(<name> SOURCES ... DEPS ... [LABELS ...] [TIMEOUT sec])
#   One gtest executable registered with CTest; LABELS e.g. "unit", "redis", "integration".
function(moneta_test name)
  cmake_parse_arguments(ARG "" "TIMEOUT" "SOURCES;DEPS;LABELS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE ${ARG_DEPS} GTest::gtest GTest::gmock GTest::gtest_main)
  moneta_warnings(${name})
  if(NOT ARG_TIMEOUT)
    set(ARG_TIMEOUT 120)
  endif()
  if(NOT ARG_LABELS)
    set(ARG_LABELS unit)
  endif()
  add_test(NAME ${name} COMMAND ${name})
  set_tests_properties(${name} PROPERTIES LABELS "${ARG_LABELS}" TIMEOUT ${ARG_TIMEOUT}
    ENVIRONMENT "MONETA_SOURCE_DIR=${PROJECT_SOURCE_DIR};MONETA_BINARY_DIR=${PROJECT_BINARY_DIR}")
endfunction()
