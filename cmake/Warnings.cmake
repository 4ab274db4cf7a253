# Warnings are errors for our own code; system headers (Boost, hiredis) are included as SYSTEM.
function(moneta_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Werror -Wpedantic -Wshadow
    -Wold-style-cast -Wcast-align -Wunused -Woverloaded-virtual
    -Wnull-dereference -Wimplicit-fallthrough -Wno-missing-field-initializers)
endfunction()
