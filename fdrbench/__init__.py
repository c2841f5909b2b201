"""fdrbench: benchmark and leaderboard harness for explainable AI-generated image detectors."""

__version__ = "0.1.0"
