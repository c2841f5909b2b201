"""The ``evaluate`` module of fdrbench's text metrics (the script beside this file)."""
