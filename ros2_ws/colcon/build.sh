#!/usr/bin/env bash
# `make colcon`: build ros2_ws/ with colcon from PyPI against the ROS 2 wheels of a project venv,
# the way a robot builds it against /opt/ros/<distro>.
#
# usage: [COLCON_OUT=dir] ros2_ws/colcon/build.sh <project venv> <colcon venv> [colcon build args]
# (build/, install/ and log/ go to $COLCON_OUT, ros2_ws/ by default)
#
# The project venv "plays" /opt/ros/<distro>: the wheels install ROS into the venv prefix
# (bin/, lib/, share/ with the ament index), so pointing PATH, AMENT_PREFIX_PATH,
# CMAKE_PREFIX_PATH and LD_LIBRARY_PATH at that prefix is what `source /opt/ros/<distro>/setup.bash`
# does on a robot. Its python3 comes first on PATH, so CMake's Python3 (and rosidl's generators)
# is the venv's, with the wheels' Python modules. colcon itself runs from its own venv (it
# pins setuptools < 80, which the project venv does not need). The wheels' exported CMake
# targets name include dirs of their build machine: wheel_include_dirs.cmake, injected with
# CMAKE_PROJECT_TOP_LEVEL_INCLUDES, fixes them without touching any package's CMakeLists.txt.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
ws="$(dirname "$here")"
ros_prefix="$(cd "$1" && pwd)"
colcon_venv="$(cd "$2" && pwd)"
shift 2

py="$ros_prefix/bin/python3"
[ -x "$py" ] || { echo "build.sh: no python3 in $ros_prefix" >&2; exit 2; }
# Never mix venvs in one process tree: the wheels' bootstrapper re-execs Python with its own
# LD_LIBRARY_PATH unless its guard says that already happened.
unset _ROS_WHEELS_BOOTSTRAP_COMPLETE PYTHONPATH PYTHONHOME VIRTUAL_ENV
site="$(env -u LD_LIBRARY_PATH "$py" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
libs="$ros_prefix/lib"
for d in "$site"/ros_*.libs; do [ -d "$d" ] && libs="$libs:$d"; done

export ROS_DISTRO="$(cat "$ros_prefix/ros-distro" 2>/dev/null || echo unknown)"
export ROS_VERSION=2 ROS_PYTHON_VERSION=3
export AMENT_PREFIX_PATH="$ros_prefix"
export CMAKE_PREFIX_PATH="$ros_prefix"
export LD_LIBRARY_PATH="$libs"
export PATH="$ros_prefix/bin:$PATH"

out="${COLCON_OUT:-$ws}"
mkdir -p "$out/build"
# colcon runs ament_python packages' setup.py with its own Python, whose path would become the
# shebang of lib/<package>/<executable>; point the shebang at the venv's Python, the one with
# rclpy (on a robot: the Python that runs colcon, `python -m colcon build` in the venv).
printf '[build_scripts]\nexecutable = %s\n' "$py" > "$out/build/colcon_scripts.cfg"
export DIST_EXTRA_CONFIG="$out/build/colcon_scripts.cfg"
cd "$ws"
exec "$colcon_venv/bin/colcon" --log-base "$out/log" build --base-paths src \
  --build-base "$out/build" --install-base "$out/install" "$@" \
  --cmake-args "-DCMAKE_PROJECT_TOP_LEVEL_INCLUDES=$here/wheel_include_dirs.cmake" \
  -DPython3_EXECUTABLE="$py" -DBUILD_TESTING=OFF
