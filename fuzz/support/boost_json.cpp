// Boost.JSON compiled into the fuzz build with coverage instrumentation (fuzz/Fuzz.cmake).
#include <boost/json/src.hpp>
