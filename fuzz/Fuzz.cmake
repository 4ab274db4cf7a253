# Included by the top-level CMakeLists.txt when MONETA_FUZZ=ON (scripts/fuzz.sh configures
# build/fuzz with clang-14). Everything in this tree is compiled with libFuzzer's coverage
# instrumentation plus ASan and UBSan; only the fuzz targets and what they link are built.
if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
  message(FATAL_ERROR "MONETA_FUZZ needs clang (CC=clang-14 CXX=clang++-14): libFuzzer is clang's")
endif()
if(MONETA_SANITIZE)
  message(FATAL_ERROR "MONETA_FUZZ brings its own sanitizers: configure with MONETA_SANITIZE=OFF")
endif()
set(MONETA_BUILD_TESTS OFF)
set(MONETA_BUILD_BENCH OFF)

# -O1 keeps libFuzzer fast; Debug (no NDEBUG) keeps Beast's and our assertions on.
add_compile_options(-O1 -fno-omit-frame-pointer
  -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined
  # clang 14's -fsanitize=function cannot emit its prologue data for the split parts of a C++20
  # coroutine ("Cannot represent a difference across sections"); every other UBSan check stays.
  -fno-sanitize=function
  # g++-only names in cmake/Warnings.cmake (-Wno-restrict...) must not break the clang build.
  -Wno-unknown-warning-option)
add_link_options(-fsanitize=address,undefined)

# Boost.JSON from source (instead of Debian's prebuilt libboost_json) so the JSON parser itself
# is instrumented: the fuzzer then learns JSON syntax from coverage, not only from the seeds.
# Defining Boost::json first makes Boost's CMake config keep ours (boost_json-config.cmake
# returns early when the target exists).
add_library(moneta_fuzz_boost_json STATIC ${CMAKE_CURRENT_LIST_DIR}/support/boost_json.cpp)
target_compile_definitions(moneta_fuzz_boost_json PUBLIC BOOST_JSON_NO_LIB)
add_library(Boost::json ALIAS moneta_fuzz_boost_json)
