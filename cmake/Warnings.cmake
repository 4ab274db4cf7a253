# Warnings are errors for our own code; system headers (Boost, hiredis) are included as SYSTEM.
function(moneta_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Werror -Wpedantic -Wshadow
    -Wold-style-cast -Wcast-align -Wunused -Woverloaded-virtual
    -Wnull-dereference -Wimplicit-fallthrough -Wno-missing-field-initializers
    # g++ 12 at -O2/-O3 reports false positives of these inside Asio, gtest and std::string
    # operator+; they stay on (and fatal) in the Debug/ASan build that ./dev test uses.
    "$<$<NOT:$<CONFIG:Debug>>:-Wno-null-dereference;-Wno-restrict;-Wno-maybe-uninitialized>")
endfunction()
