"""The ``evaluate`` module of fdrbench's ternary metrics (the script beside this file)."""
