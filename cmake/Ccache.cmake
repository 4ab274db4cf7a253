# Use ccache when it is installed: rebuilds of a clean clone in CI and `./dev` re-runs stay cheap.
find_program(MONETA_CCACHE ccache)
if(MONETA_CCACHE)
  set(CMAKE_CXX_COMPILER_LAUNCHER ${MONETA_CCACHE})
  set(CMAKE_C_COMPILER_LAUNCHER ${MONETA_CCACHE})
endif()
