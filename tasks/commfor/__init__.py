"""Community Forensics (CVPR 2025): the CompEval evaluation set."""

from fdrbench.tasks.commfor.task import CommForEval

__all__ = ["CommForEval"]
