# enachi_ros developer entry points. `make demo` and `make test` set everything up first.
#
# setup is incremental (stamp files under $(VENV)/.stamps): the second run takes seconds.
# Stamps depend on the files that define each step, so editing a requirements file, a .msg file
# or setup.py redoes exactly the affected step.
#
# ROS_DISTRO picks the ROS 2 wheels (requirements/$(ROS_DISTRO).txt, pinned by
# requirements/$(ROS_DISTRO).lock): jazzy or kilted. Each distro has its own venv, because both
# install the same `ros-*` distributions: .venv for the default, .venv-<distro> for the other
# (`make test ROS_DISTRO=kilted`). The default is Jazzy, the LTS robots run (docs/BUILDING.md).
# A venv built for another distro is rebuilt, not patched.

SHELL := /bin/bash
PYTHON_BOOTSTRAP ?= python3
ROS_DISTROS := jazzy kilted
DEFAULT_ROS_DISTRO := jazzy
# Only a make argument picks the distro: a ROS_DISTRO in the environment (set by sourcing an apt
# ROS 2, e.g. humble) is not this venv's business.
ifneq ($(filter command line override,$(origin ROS_DISTRO)),)
else
ROS_DISTRO := $(DEFAULT_ROS_DISTRO)
endif
ifeq ($(filter $(ROS_DISTRO),$(ROS_DISTROS)),)
$(error ROS_DISTRO=$(ROS_DISTRO): choose one of $(ROS_DISTROS))
endif
VENV ?= $(if $(filter $(ROS_DISTRO),$(DEFAULT_ROS_DISTRO)),.venv,.venv-$(ROS_DISTRO))
PY := $(VENV)/bin/python
PIP := $(PY) -m pip --disable-pip-version-check
STAMPS := $(VENV)/.stamps
REQUIREMENTS := requirements.txt requirements/$(ROS_DISTRO).txt requirements/$(ROS_DISTRO).lock
DATASET := /usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz
BACKGROUNDS := /usr/share/doc/opencv-doc/examples/data/vtest.avi
COLCON_VENV ?= .venv-colcon
COLCON_OUT ?= ros2_ws
COLCON_ARGS ?=
DEMO_ARGS ?=
PYTEST_ARGS ?=

# The distro a venv was built for is written in $(VENV)/ros-distro. A venv from before that
# file existed holds Kilted (the only distro then). On a mismatch the marker target is phony, so
# it runs (rebuilding the venv) and every stamp after it is redone.
VENV_DISTRO := $(strip $(shell cat $(VENV)/ros-distro 2>/dev/null || \
  { [ -e $(STAMPS)/requirements ] && echo kilted; }))
ifneq ($(VENV_DISTRO),$(ROS_DISTRO))
.PHONY: $(VENV)/ros-distro
endif

.PHONY: setup interfaces colcon print-venv demo test lint clean-venv

setup: $(STAMPS)/interfaces $(STAMPS)/package $(DATASET) $(BACKGROUNDS)
	@$(PY) -c "import rclpy, torchvision, enachi_interfaces.msg as m; \
	from sensor_msgs.msg import Image; print('setup ok ($(ROS_DISTRO)): rclpy', rclpy.__file__.split('/site-packages')[0], \
	'| messages', len([n for n in dir(m) if n[0].isupper()]), '| torchvision', torchvision.__version__)"

$(VENV)/ros-distro:
	@if [ "$(VENV_DISTRO)" != "$(ROS_DISTRO)" ] && [ -e $(VENV) ]; then \
	  echo "$(VENV) holds ROS '$(VENV_DISTRO)', not $(ROS_DISTRO): rebuilding it"; rm -rf $(VENV); fi
	[ -x $(PY) ] || $(PYTHON_BOOTSTRAP) -m venv $(VENV)
	@echo $(ROS_DISTRO) > $@

$(STAMPS)/requirements: $(REQUIREMENTS) $(VENV)/ros-distro
	$(PIP) install -q -r requirements.txt -r requirements/$(ROS_DISTRO).txt \
	  -c requirements/$(ROS_DISTRO).lock
	@mkdir -p $(STAMPS) && touch $@

# The ament_cmake interface package, built by pip against the ROS 2 wheels (see docs/BUILDING.md),
# in a build folder of this venv: a CMake cache made against one distro's prefix is wrong for another.
$(STAMPS)/interfaces: $(STAMPS)/requirements $(wildcard msg/*.msg) \
		ros2_ws/src/enachi_interfaces/CMakeLists.txt ros2_ws/src/enachi_interfaces/package.xml \
		ros2_ws/src/enachi_interfaces/pyproject.toml
	$(PIP) install -q --no-build-isolation --force-reinstall --no-deps \
	  -C build-dir=$(abspath $(VENV))/build/enachi_interfaces ./ros2_ws/src/enachi_interfaces
	@touch $@

$(STAMPS)/package: $(STAMPS)/requirements setup.py setup.cfg package.xml
	$(PIP) install -q --no-build-isolation --no-deps -e .
	@# `import torchvision` works anywhere in the venv: enachi_ros/tv_import_hook.py
	@printf '%s\n' 'import importlib.util as u; u.find_spec("enachi_ros") and __import__("enachi_ros.tv_import_hook")' \
	  > "$$($(PY) -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')/enachi_tv_shim.pth"
	@touch $@

# The ROS side of a venv alone (wheels and messages, no data sets): what a test needs of the other
# distro's venv, e.g. `make interfaces ROS_DISTRO=kilted`.
interfaces: $(STAMPS)/interfaces

print-venv:
	@echo $(VENV)

# ros2_ws/ built by colcon (from PyPI, in its own venv: colcon-core needs setuptools < 80) against
# this venv's ROS wheels, as a robot builds it against /opt/ros/<distro>: ros2_ws/colcon/build.sh.
# Output in $(COLCON_OUT)/{build,install,log}. The venv's own enachi_interfaces must be current:
# the wheels' bootstrapper orders LD_LIBRARY_PATH as it likes, so a sourced install/ may load
# the venv's message libraries next to install/'s Python modules.
$(COLCON_VENV)/.stamp: ros2_ws/colcon/requirements.txt
	[ -x $(COLCON_VENV)/bin/python ] || $(PYTHON_BOOTSTRAP) -m venv $(COLCON_VENV)
	$(COLCON_VENV)/bin/python -m pip --disable-pip-version-check install -q \
	  -r ros2_ws/colcon/requirements.txt
	@touch $@

colcon: $(STAMPS)/interfaces $(COLCON_VENV)/.stamp
	COLCON_OUT=$(abspath $(COLCON_OUT)) ros2_ws/colcon/build.sh $(VENV) $(COLCON_VENV) $(COLCON_ARGS)

# The only labeled image data set available offline (Debian package).
$(DATASET):
	@if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  if ! apt-cache show dataset-fashion-mnist >/dev/null 2>&1; then $$SUDO apt-get update -q; fi; \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -q dataset-fashion-mnist

# Background photos and video of the labelled camera frames (models/frames.py), offline.
$(BACKGROUNDS):
	@if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  if ! apt-cache show opencv-doc >/dev/null 2>&1; then $$SUDO apt-get update -q; fi; \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -q --no-install-recommends opencv-doc

demo: setup
	$(VENV)/bin/enachi demo $(DEMO_ARGS)

# pytest exit code 5 (no test collected) is a failure, like any other non-zero status.
test: setup
	@$(PY) -m pytest $(PYTEST_ARGS); rc=$$?; \
	  if [ $$rc -eq 5 ]; then echo "make test: pytest collected no tests: failing" >&2; fi; exit $$rc

lint: setup
	$(VENV)/bin/ruff check enachi_ros tests launch

clean-venv:
	rm -rf $(VENV)
