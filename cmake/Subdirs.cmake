# moneta_add_subdirs(<dir>): add every immediate child of <dir> that has a CMakeLists.txt, so a new
# library, service or test folder is picked up without editing a shared list.
function(moneta_add_subdirs dir)
  file(GLOB children LIST_DIRECTORIES true RELATIVE ${dir} ${dir}/*)
  list(SORT children)
  foreach(child ${children})
    if(EXISTS ${dir}/${child}/CMakeLists.txt)
      add_subdirectory(${dir}/${child})
    endif()
  endforeach()
endfunction()
