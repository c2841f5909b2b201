"""The ``evaluate`` module of fdrbench's detection metrics (the script beside this file)."""
