"""What the pages read from a results folder, beyond the index: scores, predictions, images, curves.

Everything a page reads goes through here, and every path is checked to stay inside the
results folder or a task's data folder (an index or a prediction file is untrusted: a
``../../`` in it must not reach other files). Predictions are read only by the explorer, the
curves and the compare page, never by the overview.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from fdrbench.errors import DataError, FdrbenchError
from fdrbench.paths import data_root
from fdrbench.pathsafe import safe_join
from fdrbench.record import Record
from fdrbench.results import RunDir
from fdrbench.store import prediction_files
from fdrbench.types import LABEL_NAMES

OUTCOMES = ("right", "wrong", "unparsed")
#: the kinds of error the explorer filters on (fake = positive): a real image called fake is a false positive
ERROR_TYPES = ("false positive", "false negative", "unparsed", "correct")
#: the explorer's orders; confidence is the detector's probability for the verdict it gave
SORTS = {
    "sample id": ("sample_id", True),
    "confidence, highest first": ("confidence", False),
    "confidence, lowest first": ("confidence", True),
    "p_fake, highest first": ("p_fake", False),
    "p_fake, lowest first": ("p_fake", True),
}
MAX_IMAGE_SIDE = 512
CURVE_POINTS = 200


def run_dir(root: Path, path: str) -> Path:
    """The run folder an index entry names, refused if it leaves the results folder."""
    try:
        return safe_join(Path(root), path)
    except DataError as exc:
        raise FdrbenchError(f"index entry {path!r} points outside the results folder") from exc


def scores(root: Path, path: str) -> dict:
    """A run's ``scores.json``, read as the contract's type, as plain data for the tables."""
    found = RunDir(run_dir(root, path)).scores()
    if found is None:
        raise FdrbenchError(f"{path}: the run has no scores.json")
    return found.to_json()


def predictions_stamp(root: Path, path: str) -> str:
    """Cheap identity of a run's prediction files (names, sizes, modification times), for caching."""
    parts = []
    for file in prediction_files(run_dir(root, path)):
        stat = file.stat()
        parts.append(f"{file.name}:{stat.st_size}:{stat.st_mtime_ns}")
    return "|".join(parts)


def outcome(record: Record) -> str:
    """``unparsed`` (error or no usable verdict), ``right`` or ``wrong``."""
    if record.error is not None or record.parse_ok is False or record.label not in (0, 1):
        return "unparsed"
    return "right" if record.label == record.truth.label else "wrong"


def error_type(record: Record) -> str:
    """``false positive`` (a real image called fake), ``false negative`` (a fake called real), ``unparsed`` or ``correct``."""
    found = outcome(record)
    if found != "wrong":
        return "correct" if found == "right" else found
    return "false positive" if record.truth.label == 0 else "false negative"


def confidence(record: Record) -> float | None:
    """How sure the detector was of the verdict it gave: ``p_fake`` for a fake verdict, ``1 - p_fake`` for a real one."""
    if record.p_fake is None or record.label not in (0, 1):
        return None
    return record.p_fake if record.label == 1 else 1.0 - record.p_fake


def predictions_table(root: Path, path: str) -> pd.DataFrame:
    """One row per sample: truth, verdict, ``p_fake``, confidence, outcome and error type, texts, image and masks."""
    records, _ = RunDir(run_dir(root, path)).records()
    rows = []
    for record in records.values():
        truth = record.truth
        row = {
            "sample_id": record.sample_id,
            "truth": LABEL_NAMES.get(truth.label, "?"),
            "truth_class": truth.cls,
            "prediction": LABEL_NAMES.get(record.label, "none") if record.label in (0, 1) else "none",
            "p_fake": record.p_fake,
            "confidence": confidence(record),
            "outcome": outcome(record),
            "error_type": error_type(record),
            "explanation": record.explanation,
            "raw_output": record.raw_output,
            "error": record.error,
            "reference": truth.reference.text,
            "image": truth.image,
            "truth_mask": truth.mask,
            "pred_mask": record.mask,
        }
        for key, value in truth.group.items():
            row[f"group:{key}"] = value
        rows.append(row)
    frame = pd.DataFrame(rows)
    return frame.sort_values("sample_id", kind="stable").reset_index(drop=True) if not frame.empty else frame


def group_columns(frame: pd.DataFrame) -> list[str]:
    return [c for c in frame.columns if c.startswith("group:")]


def filter_predictions(
    frame: pd.DataFrame,
    groups: dict[str, list[str]] | None = None,
    outcomes: list[str] | None = None,
    truths: list[str] | None = None,
    search: str = "",
    error_types: list[str] | None = None,
) -> pd.DataFrame:
    """Rows matching every filter; an empty or None filter keeps everything."""
    keep = pd.Series(True, index=frame.index)
    for column, values in (groups or {}).items():
        if values:
            keep &= frame[column].isin(values)
    if outcomes:
        keep &= frame["outcome"].isin(outcomes)
    if truths:
        keep &= frame["truth"].isin(truths)
    if error_types:
        keep &= frame["error_type"].isin(error_types)
    if search:
        keep &= frame["sample_id"].str.contains(search, case=False, regex=False)
    return frame[keep]


def sort_predictions(frame: pd.DataFrame, by: str = "sample id", wrong_first: bool = False) -> pd.DataFrame:
    """Rows in the order :data:`SORTS` names (samples without the value last, then by id); with
    ``wrong_first`` the false positives and negatives come first, then the unparsed, then the right."""
    if frame.empty:
        return frame
    column, ascending = SORTS[by]
    keys, order = [column], [ascending]
    if column != "sample_id":
        keys, order = [*keys, "sample_id"], [*order, True]
    if wrong_first:
        rank = frame["outcome"].map({"wrong": 0, "unparsed": 1, "right": 2})
        frame = frame.assign(_first=rank)
        keys, order = ["_first", *keys], [True, *order]
    out = frame.sort_values(keys, ascending=order, na_position="last", kind="stable")
    return out.drop(columns=["_first"], errors="ignore").reset_index(drop=True)


# --------------------------------------------------------------------------- images


def data_dirs_from_env(value: str | None) -> dict[str, str]:
    try:
        parsed = json.loads(value) if value else {}
    except json.JSONDecodeError:
        return {}
    return {str(k): str(v) for k, v in parsed.items()} if isinstance(parsed, dict) else {}


def image_roots(task: str, split: str | None, results_root: Path, data_dirs: dict[str, str]) -> list[Path]:
    """Folders a task's images may be read from: its data folder (and the split inside it), or
    ``<results>/<task>/images``."""
    base = Path(data_dirs[task]) if task in data_dirs else data_root() / task
    roots = [base / split, base] if split else [base]
    roots.append(Path(results_root) / task / "images")
    return roots


@dataclass
class ImageLookup:
    path: Path | None
    reason: str | None = None


def find_image(image_ref: str | None, roots: list[Path]) -> ImageLookup:
    """The file an image reference names inside one of ``roots``; never a path outside them."""
    if not image_ref:
        return ImageLookup(None, "the run stores no image reference for this sample")
    if os.path.isabs(image_ref):
        return ImageLookup(None, "absolute image paths are not read")
    for root in roots:
        if not root.is_dir():
            continue
        try:
            candidate = safe_join(root, image_ref)
        except DataError:
            return ImageLookup(None, "the image reference leaves the data folder; refused")
        if candidate.is_file():
            return ImageLookup(candidate)
    return ImageLookup(None, f"not found under {', '.join(str(r) for r in roots)} (start with --data-dir TASK=PATH)")


def open_thumbnail(path: Path):
    """The image as RGB, at most :data:`MAX_IMAGE_SIDE` pixels on a side."""
    from fdrbench.types import open_image

    image = open_image(path)
    image.thumbnail((MAX_IMAGE_SIDE, MAX_IMAGE_SIDE))
    return image


def mask_image(rle: dict | None) -> np.ndarray | None:
    """A run-length mask as an 8-bit image (white = manipulated), or None."""
    from fdrbench.types import decode_mask

    if not isinstance(rle, dict):
        return None
    try:
        return decode_mask(rle).astype(np.uint8) * 255
    except ValueError:
        return None


# --------------------------------------------------------------------------- curves


def _thin(*arrays: np.ndarray, points: int = CURVE_POINTS) -> list[list[float]]:
    n = len(arrays[0])
    if n <= points:
        return [a.tolist() for a in arrays]
    pick = np.unique(np.linspace(0, n - 1, points).round().astype(int))
    return [a[pick].tolist() for a in arrays]


def curves(root: Path, path: str, protocol: str) -> dict | None:
    """ROC, precision-recall and reliability points of one run's ``p_fake`` (None without p_fake)."""
    from sklearn.metrics import precision_recall_curve, roc_curve

    from fdrbench.metrics.calibration import CalibrationOptions, reliability
    from fdrbench.paired import load_scored

    scored = load_scored(run_dir(root, path), protocol)
    frame = scored.frame
    rows = frame.all_rows()[scored.included]
    if not frame.has_p or rows.size == 0 or len(np.unique(frame.y[rows])) < 2:
        return None
    y, p = frame.y[rows], frame.p[rows]
    fpr, tpr, _ = roc_curve(y, p)
    precision, recall, _ = precision_recall_curve(y, p)
    options = frame.family_options(CalibrationOptions)
    bins, binning = int(options.ece_bins), str(options.ece_binning)
    fpr_t, tpr_t = _thin(fpr, tpr)
    recall_t, precision_t = _thin(recall[::-1], precision[::-1])
    return {
        "roc": {"fpr": fpr_t, "tpr": tpr_t},
        "pr": {"recall": recall_t, "precision": precision_t, "base_rate": float(np.mean(y))},
        "reliability": [b for b in reliability(y, p, bins, binning) if b["count"]],
        "binning": f"{bins} {binning} bins",
    }
