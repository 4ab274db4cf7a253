# ASan + UBSan for the test configuration (`./dev test` builds with MONETA_SANITIZE=ON).
if(MONETA_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
  add_link_options(-fsanitize=address,undefined)
endif()
