"""SID-Set (SIDA): real, fully synthetic and tampered images, with masks of the tampered regions.

``loader`` reads the Drive folders and the Hub parquet files (masks on SIDA's 1024 grid),
``task`` declares ``sidset``, ``paper`` holds SIDA's class rule and protocol, ``miniature``
writes tiny copies of both released forms for the tests.
"""

from fdrbench.tasks.sidset.task import SIDSet

__all__ = ["SIDSet"]
