# Debian's xsimd 8.1 package declares a link item "xtl" that nothing provides, so every consumer fails
# to link with "cannot find -lxtl". xsimd is header-only and needs no such library: drop the item.
if(TARGET xsimd AND NOT TARGET xtl)
  get_target_property(_nn_xsimd_links xsimd INTERFACE_LINK_LIBRARIES)
  if(_nn_xsimd_links STREQUAL "xtl")
    set_target_properties(xsimd PROPERTIES INTERFACE_LINK_LIBRARIES "")
  endif()
  unset(_nn_xsimd_links)
endif()
