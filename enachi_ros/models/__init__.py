"""Torch model code: the model registry, split models, training and calibration.

Everything torch lives here (and in ``bench``); ``enachi_ros.core`` stays numpy-only so the ROS
nodes and the simulator can read calibration artifacts without loading torch.
"""
