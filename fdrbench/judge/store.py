"""The judgements of a run: ``judgements.jsonl`` beside ``predictions.jsonl``.

One JSON object per judged sample, appended and fsynced per chunk like predictions, so a killed
judge loses at most the chunk in flight and a re-run resumes. When a sample appears more than
once, the later line wins (a re-judged sample whose earlier judgement was missing).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from fdrbench.errors import ResultsError
from fdrbench.metrics.judge import SCORED
from fdrbench.record import Record
from fdrbench.store import iter_records

JUDGEMENTS = "judgements.jsonl"
STATUSES = SCORED | {"missing", "not_applicable"}


def judged_text(record: Record) -> str:
    """The text a judge grades for a prediction record: its explanation, else its raw output."""
    return (record.explanation or record.raw_output or "").strip()


def answer_key(record: Record) -> str:
    """SHA-256 of what was judged (the text, and whether the prediction failed). A prediction made
    again after judging (``--retry-failed``) has another key, so its old judgement is not used."""
    payload = json.dumps([record.error is not None, judged_text(record)], ensure_ascii=False)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def judgements_path(run_dir: Path) -> Path:
    return Path(run_dir) / JUDGEMENTS


def load_judgements(run_dir: Path) -> dict[str, dict]:
    """``{sample_id: judgement}`` from the run's judgements file (empty when there is none)."""
    path = judgements_path(run_dir)
    if not path.is_file():
        return {}
    out: dict[str, dict] = {}
    for number, record in iter_records(path):
        sid = record.get("sample_id")
        if not isinstance(sid, str) or record.get("status") not in STATUSES:
            raise ResultsError(f"{path}: line {number} is not a judgement (needs 'sample_id' and a 'status' in {sorted(STATUSES)})")
        out[sid] = record
    return out


def attach_judgements(run_dir: Path, records: dict[str, Record]) -> bool:
    """Put each sample's judgement on its prediction record (``record.judgement``) for the score
    stage, unless the prediction changed since it was judged; returns whether the run has any."""
    judgements = load_judgements(run_dir)
    for sid, record in records.items():
        judgement = judgements.get(sid)
        if judgement is not None and judgement.get("answer_sha256") == answer_key(record):
            record.judgement = judgement
    return bool(judgements)
