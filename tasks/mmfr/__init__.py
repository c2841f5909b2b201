"""MMFR (FakeReasoning): ten evaluation sets of real and generated images with GPT-4o attribute
reasoning, and the training split.

``loader`` reads the released tree, ``task`` declares ``mmfr_eval`` and ``mmfr_train``,
``paper`` holds FakeReasoning's verdict rule and protocol, ``prepare`` joins and extracts the
multi-part archive, ``miniature`` writes a tiny copy of the release for the tests.
"""

from fdrbench.tasks.mmfr.task import MMFREval, MMFRTrain

__all__ = ["MMFREval", "MMFRTrain"]
