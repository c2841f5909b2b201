"""Baseline detectors that run on a CPU without downloads."""
