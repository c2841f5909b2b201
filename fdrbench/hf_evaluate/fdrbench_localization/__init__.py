"""The ``evaluate`` module of fdrbench's localization metrics (the script beside this file)."""
