"""SynthScars (LEGION, arXiv 2503.15264): fully synthetic images with artifact masks and explanations."""

from fdrbench.tasks.synthscars.task import SynthScars

__all__ = ["SynthScars"]
