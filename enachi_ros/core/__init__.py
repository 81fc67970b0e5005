"""Pure, vectorized, ROS-free and torch-free core: the maths both the nodes and the simulator call."""
