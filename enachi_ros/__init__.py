"""enachi_ros: energy- and accuracy-aware split inference for robot fleets over lossy links.

Layout: ``core`` (pure numpy maths and protocol), ``models`` (torch), ``sim`` (simulator),
``nodes`` (thin rclpy nodes), ``bench`` (benchmarks). See docs/DESIGN.md.
"""

__version__ = "0.1.0"
