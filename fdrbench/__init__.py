"""fdrbench: benchmark and leaderboard harness for explainable AI-generated image detectors.

The plain-array scoring functions of :mod:`fdrbench.score_arrays` are importable from here
(``from fdrbench import detection_scores``); they load on first use, so importing fdrbench
(and ``fdrbench --help``) stays fast.
"""

__version__ = "0.1.0"

_ARRAY_API = frozenset({"detection_scores", "calibration_scores", "ternary_scores", "localization_scores", "text_scores"})


def __getattr__(name: str):
    if name in _ARRAY_API:
        from fdrbench import score_arrays

        return getattr(score_arrays, name)
    raise AttributeError(f"module 'fdrbench' has no attribute {name!r}")
