"""DD-VQA's paper protocol: FakeVLM's evaluation (the one FakeClue's paper defines), on the sample set it scored.

FakeVLM's DD-VQA figures are computed over every question, each shown its own frame (1,323
test questions); with ``questions=image`` the protocol still applies but records that its
sample set is not the paper's.
"""

from __future__ import annotations

from dataclasses import replace

from fdrbench.protocols import Protocol
from fdrbench.tasks.fakeclue.paper import fakevlm_paper


def ddvqa_paper(questions: str) -> Protocol:
    """FakeVLM's protocol (echoed prompt cut at its last '?', first-sentence verdict, F1 with real
    positive), with the sample set the ``questions`` option gives recorded beside it."""
    if questions == "all":
        samples = "one per question, each on its own frame (FakeVLM's DD-VQA evaluation: 1,323 test questions)"
    else:
        samples = "the image-level question only (questions=image): not the sample set of FakeVLM's DD-VQA figures"
    return replace(fakevlm_paper(), samples=samples)
