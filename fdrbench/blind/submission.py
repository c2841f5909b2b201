"""The blind submission's files, their line type, and every check an organiser runs on them.

``submission.jsonl`` holds one :class:`SubmissionLine` per sample: the prediction fields of the
results contract (:class:`~fdrbench.record.PredictionFields`) and nothing else. Unknown fields
are refused when it is read, so a line cannot carry a ``truth`` or anything derived from one.
:func:`read_submission` reads it under size limits and reports every problem it finds in a
:class:`~fdrbench.checks.Report` instead of stopping at the first, so a participant can fix
the whole file at once.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import msgspec

from fdrbench.checks import Check, Report
from fdrbench.errors import DataError
from fdrbench.record import PREDICTION_FIELDS, PredictionFields, Record, Truth, validation_message
from fdrbench.types import TERNARY_CLASSES, Prediction, Sample

SUBMISSION = "submission.jsonl"
SUBMISSION_MANIFEST = "submission-manifest.json"
_MIB = 1 << 20


class SubmissionLine(PredictionFields, kw_only=True, forbid_unknown_fields=True):
    """One line of ``submission.jsonl``: a prediction, with no field for (or from) the truth."""

    @classmethod
    def of(cls, prediction: Prediction) -> SubmissionLine:
        return cls(**{name: getattr(prediction, name) for name in PREDICTION_FIELDS})

    def record(self, truth: Truth) -> Record:
        """The stored line of the run the organiser makes: this prediction with the sample's truth."""
        return Record(truth=truth, **{name: getattr(self, name) for name in PREDICTION_FIELDS})


_DECODER = msgspec.json.Decoder(SubmissionLine)


@dataclass(frozen=True)
class Limits:
    """What an organiser accepts; the defaults fit benchmarks of a few hundred thousand samples."""

    max_bytes: int = 4096 * _MIB
    max_line_bytes: int = 64 * _MIB
    max_manifest_bytes: int = 16 * _MIB


def decode_line(raw: bytes, where: str) -> SubmissionLine:
    """One line, type-checked; a ``ValueError`` names ``where`` and the field."""
    try:
        return _DECODER.decode(raw)
    except msgspec.ValidationError as exc:
        text = str(exc)
        if "unknown field" in text:
            name = text.split("`")[1] if "`" in text else "?"
            raise ValueError(f"{where}: unknown field {name!r} (a submission line holds the prediction fields only)") from exc
        try:
            data = msgspec.json.decode(raw)
        except msgspec.DecodeError:
            data = None
        raise ValueError(f"{where}: {validation_message(exc, data, SubmissionLine)}") from exc
    except msgspec.DecodeError as exc:
        raise ValueError(f"{where}: not valid JSON ({exc})") from exc


def finished_ids(path: Path, retry_failed: bool = False) -> set[str]:
    """Sample ids of a submission being written that need no new prediction (errored ones too, unless
    ``retry_failed``); what a resumed ``--predict-only`` run skips."""
    lines, _ = merged_lines(path)
    return {sid for sid, line in lines.items() if not (retry_failed and line.error is not None)}


def merged_lines(path: Path) -> tuple[dict[str, SubmissionLine], int]:
    """The lines a participant's run wrote, one per sample (a retry wins over its failure), and the
    number superseded; a torn last line (a run killed mid-write) is ignored."""
    from fdrbench.store import iter_lines

    merged: dict[str, SubmissionLine] = {}
    superseded = 0
    if not path.is_file():
        return merged, 0
    for number, raw in iter_lines(path):
        try:
            line = decode_line(raw, f"{path}: line {number}")
        except ValueError as exc:
            raise DataError(str(exc)) from exc
        old = merged.get(line.sample_id)
        if old is not None:
            superseded += 1
            if old.error is None and line.error is not None:
                continue
        merged[line.sample_id] = line
    return merged, superseded


def _classes(label_space: str) -> tuple[str, ...]:
    return TERNARY_CLASSES if label_space == "ternary" else (*TERNARY_CLASSES, "fake")


def _line_problems(line: SubmissionLine, label_space: str) -> list[str]:
    out = list(line.field_problems())
    allowed = _classes(label_space)
    if line.cls is not None and line.cls in Truth.CLASSES and line.cls not in allowed:
        out.append(f"class {line.cls!r} is not in the task's {label_space} label space ({', '.join(allowed)})")
    if line.class_probs and not set(line.class_probs) <= set(allowed):
        out.append(f"class_probs names {sorted(set(line.class_probs) - set(allowed))}, outside the task's classes")
    return out


def expected_mask_size(sample: Sample) -> tuple[int, int]:
    """(h, w) a predicted mask of ``sample`` must have: its image's size, read from the header where
    the image is a file."""
    import os

    from fdrbench.media import image_size

    if isinstance(sample.image, (str, os.PathLike)):
        width, height = image_size(sample.image, record=sample.id)
    else:
        width, height = sample.load_image().size
        sample.release_image()
    return height, width


def read_submission(
    path: Path, samples: Mapping[str, Sample], label_space: str, report: Report, limits: Limits = Limits(), bar=None
) -> dict[str, SubmissionLine]:
    """Every line of ``path`` checked against the task's samples; problems go into ``report``.

    Checks: the file's and each line's size; each line's JSON, types and unknown fields; values
    in range and classes in the label space (the results contract's own rules); each sample id
    known and present exactly once, and none missing; every mask decodable and the size of its
    image. Returns the lines that passed, by sample id.
    """
    lines: dict[str, SubmissionLine] = {}
    first_seen: dict[str, int] = {}
    with Check(report, "size") as size:
        total = path.stat().st_size
        if total > limits.max_bytes:
            size.fail(f"{path.name} is {total:,} bytes, more than the {limits.max_bytes:,} accepted")
            return lines
    with Check(report, "lines") as check, open(path, "rb") as handle:
        number = 0
        for raw in handle:
            number += 1
            if bar is not None:
                bar.advance()
            where = f"{path.name} line {number}"
            if len(raw) > limits.max_line_bytes:
                check.fail(f"{where}: {len(raw):,} bytes, more than the {limits.max_line_bytes:,} a line may have")
                continue
            if not raw.endswith(b"\n"):
                check.fail(f"{where}: the last line is cut short (no final newline)")
            if not raw.strip():
                check.fail(f"{where}: empty line")
                continue
            try:
                line = decode_line(raw, where)
            except ValueError as exc:
                check.fail(str(exc))
                continue
            problems = _line_problems(line, label_space)
            if line.sample_id not in samples:
                problems.append(f"sample id {line.sample_id!r} is not in the task's split")
            elif line.sample_id in first_seen:
                problems.append(
                    f"sample {line.sample_id!r} appears again (first on line {first_seen[line.sample_id]}); every sample must appear once"
                )
            else:
                first_seen[line.sample_id] = number
            if problems:
                check.fail(f"{where}: " + "; ".join(problems))
                continue
            lines[line.sample_id] = line
    with Check(report, "coverage") as coverage:
        missing = [sid for sid in samples if sid not in first_seen]
        if missing:
            shown = ", ".join(repr(s) for s in missing[:5]) + (f" and {len(missing) - 5} more" if len(missing) > 5 else "")
            coverage.fail(f"{len(missing)} of the split's {len(samples)} samples have no line: {shown}")
    with Check(report, "masks") as masks:
        for sid, line in lines.items():
            if line.mask is None:
                continue
            try:
                want = expected_mask_size(samples[sid])
            except DataError as exc:
                masks.fail(f"sample {sid!r}: its image cannot be read to check the mask's size ({exc})")
                continue
            got = tuple(int(v) for v in line.mask["size"])
            if got != want:
                masks.fail(f"sample {sid!r}: the mask is {got[0]}x{got[1]} (h x w), its image is {want[0]}x{want[1]}")
    return lines
