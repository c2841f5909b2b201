"""DeepfakeJudge (CVPR 2026): the DFJ-Detect and DFJ-Reason benchmark splits."""

from fdrbench.tasks.dfj.task import DfjDetect, DfjReason

__all__ = ["DfjDetect", "DfjReason"]
