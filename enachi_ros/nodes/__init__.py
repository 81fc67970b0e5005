"""Thin rclpy nodes: parameters in, messages in, call the core, messages out."""
