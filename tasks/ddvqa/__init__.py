"""DD-VQA: common-sense questions and answers about FaceForensics++ frames (ECCV 2024).

``loader`` reads the released JSON and the prepared frames, ``task`` declares ``ddvqa``,
``paper`` holds its paper protocol (FakeVLM's, from :mod:`fdrbench.tasks.fakeclue.paper`),
``prepare`` places the FF++ frame of every question, ``miniature`` writes a tiny copy of the
release (and of an FF++ frames tree) for the tests.
"""

from fdrbench.tasks.ddvqa.task import DDVQA

__all__ = ["DDVQA"]
