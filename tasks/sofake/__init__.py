"""So-Fake-OOD: real Reddit photos, fully synthetic images of commercial generators, and tampered images.

``loader`` reads the released parquet (the class map read from the files, never assumed),
``task`` declares ``sofake_ood``, ``paper`` holds So-Fake-R1's answer rule and the paper's
protocol, ``miniature`` writes tiny copies of both released versions for the tests.
"""

from fdrbench.tasks.sofake.task import SoFakeOOD

__all__ = ["SoFakeOOD"]
