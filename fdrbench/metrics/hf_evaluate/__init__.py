"""``evaluate`` metric modules of fdrbench's families; load one with ``evaluate.load(folder)``."""
