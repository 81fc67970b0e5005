# Injected into every CMake package that `make colcon` builds, with
# -DCMAKE_PROJECT_TOP_LEVEL_INCLUDES=<this file> (CMake >= 3.24), so the packages' own
# CMakeLists.txt stay exactly what a robot with an apt ROS 2 builds.
#
# Why: the ROS 2 PyPI wheels export their *__rosidl_generator_py CMake targets with the include
# directories of the machine that built them (/opt/python/cp3XX-cp3XX/include/python3.X), so the
# generate step of any interface package fails with "Imported target ... includes non-existent
# path". At the end of the top-level configure (deferred: the targets exist only once
# rosidl_generate_interfaces ran), every imported target that lists an include directory which
# does not exist here gets this Python's and NumPy's include directories instead. On a real ROS
# install every listed directory exists and nothing changes.

function(_enachi_fix_wheel_include_dirs)
  get_directory_property(_targets DIRECTORY "${CMAKE_SOURCE_DIR}" IMPORTED_TARGETS)
  set(_fixed "")
  foreach(_target IN LISTS _targets)
    get_target_property(_incs ${_target} INTERFACE_INCLUDE_DIRECTORIES)
    if(NOT _incs)
      continue()
    endif()
    set(_missing FALSE)
    foreach(_dir IN LISTS _incs)
      if(NOT _dir MATCHES "^\\$<" AND NOT EXISTS "${_dir}")
        set(_missing TRUE)
      endif()
    endforeach()
    if(NOT _missing)
      continue()
    endif()
    if(NOT DEFINED Python3_NumPy_INCLUDE_DIRS)
      find_package(Python3 REQUIRED COMPONENTS Interpreter Development.Module NumPy)
    endif()
    set(_kept "")
    foreach(_dir IN LISTS _incs)
      if(_dir MATCHES "^\\$<" OR EXISTS "${_dir}")
        list(APPEND _kept "${_dir}")
      endif()
    endforeach()
    list(APPEND _kept ${Python3_INCLUDE_DIRS} ${Python3_NumPy_INCLUDE_DIRS})
    list(REMOVE_DUPLICATES _kept)
    set_target_properties(${_target} PROPERTIES INTERFACE_INCLUDE_DIRECTORIES "${_kept}")
    list(APPEND _fixed ${_target})
  endforeach()
  if(_fixed)
    message(STATUS "wheel_include_dirs: include dirs of this machine for ${_fixed}")
  endif()
endfunction()

cmake_language(DEFER DIRECTORY "${CMAKE_SOURCE_DIR}" CALL _enachi_fix_wheel_include_dirs)
