"""The ``evaluate`` module of fdrbench's calibration metrics (the script beside this file)."""
