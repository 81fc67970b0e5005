"""Pure, vectorized, ROS-free and torch-free core: the maths the nodes and the simulator call."""
