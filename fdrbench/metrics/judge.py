"""``judge_score``: the mean LLM-judge score of the explanations, in [0, 1].

Each judgement's score is its rubric total rescaled to [0, 1] (total minus the minimum, over the
range). Samples the judge could not grade (``missing``) and samples the rubric does not apply to
are left out of the mean, never counted as 0; an empty explanation gets the rubric minimum. The
value is null when no sample has a score.
"""

from __future__ import annotations

import warnings

import numpy as np

from fdrbench.metrics.frame import Frame, Metric, family

COLUMN = "judge_score"
#: judgement statuses that carry a score: graded by the judge, or the rubric minimum for an empty answer
SCORED = frozenset({"ok", "no_explanation"})


def judgement_score(record) -> float:
    judgement = record.judgement
    if not isinstance(judgement, dict) or judgement.get("status") not in SCORED:
        return np.nan
    score = judgement.get("score")
    if not isinstance(score, (int, float)) or isinstance(score, bool) or not 0.0 <= float(score) <= 1.0:
        return np.nan
    return float(score)


def _prepare(frame: Frame) -> None:
    frame.columns[COLUMN] = np.array([judgement_score(r) for r in frame.records], dtype=float)


def _mean(frame: Frame, idx: np.ndarray) -> np.ndarray:
    values = frame.columns[COLUMN][idx]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-missing rows give NaN: reported as null
        return np.nanmean(values, axis=-1)


METRICS = family(
    "judge",
    (Metric(COLUMN, _mean, "mean LLM-judge rubric score of the explanations (missing judgements left out)", prepare=_prepare),),
)
