"""FakeClue (FakeVLM): real and fake images in seven categories, each with an explanation.

``loader`` reads the released annotation file (its 1 = real converted), ``task`` declares
``fakeclue``, ``paper`` holds FakeVLM's verdict rule and protocol (DD-VQA's paper protocol
too), ``miniature`` writes a tiny copy of the release for the tests.
"""

from fdrbench.tasks.fakeclue.task import FakeClue

__all__ = ["FakeClue"]
