"""Benchmarks, installed as ``fdrbench.tasks``: one module per benchmark family."""
