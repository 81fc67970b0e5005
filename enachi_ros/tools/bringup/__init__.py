"""The bringup runner (``enachi bringup`` / ``enachi demo``): a launch file's nodes without
``ros2 launch``. cli (arguments) -> plan (specs, process groups) -> processes (start, stop) ->
run (record, drain) -> outputs and display."""
