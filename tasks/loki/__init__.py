"""LOKI, image modality: yes/no judgement questions (``loki``) and open-ended explanations (``loki_explain``).

``loader`` reads the released JSON (the explanation file is UTF-16), ``task`` declares both
tasks, ``paper`` holds LOKI's yes/no rule and protocol, ``miniature`` writes a tiny copy of the
release for the tests.
"""

from fdrbench.tasks.loki.task import Loki, LokiExplain

__all__ = ["Loki", "LokiExplain"]
