"""Localization of tampered regions: per-image IoU (``giou``), cumulative IoU (``ciou``), pixel F1 and AUC.

Only images whose truth is ``tampered`` (or, for tasks without three-way classes, fake images
with a ground-truth mask) are scored, whatever the detector's verdict, as three-way
benchmarks' evaluations do. A tampered image without a predicted mask counts as an empty prediction; the metrics are
null when the detector predicts no mask at all.

A run whose ground-truth masks of tampered images are all empty cannot be scored: the masks were
decoded with a rule that does not fit them (e.g. a ``> 127`` threshold on masks drawn in gray
100), and any IoU would be a number about the decoder, not the detector. How each truth mask was
decoded (``truth.mask.decoded``, when its task records it) is listed in the details.

Masks are compared at a stated resolution (protocol option ``mask_size``): ``None`` keeps the
ground truth's size (a prediction of another size is resized to it, nearest neighbour); an
integer ``L`` resizes both so that the longest side is ``L`` (1024 is common).

- ``giou``: mean over images of |P ∩ G| / |P ∪ G|; an image whose union is empty counts as 1.
- ``ciou``: Σ |P ∩ G| / Σ |P ∪ G| over the images.
- ``pixel_f1``: mean over images of the pixel F1 (1 when both masks are empty).
- ``miou``: mean over images of the mean of the foreground IoU and the background IoU (the
  intact pixels' own IoU), as segmentation papers report mIoU over the two classes; ``cmiou``:
  the same two classes from summed intersections and unions over the images.
- ``pixel_auc``: mean over images (whose truth has both tampered and intact pixels) of the pixel
  ROC AUC. It uses a score map when the prediction has one (``Prediction.extra["mask_scores"]``,
  see :func:`encode_score_map`), otherwise the binary mask, where AUC = (TPR + TNR) / 2.
"""

from __future__ import annotations

import base64
import io
from dataclasses import dataclass

import numpy as np

from fdrbench.errors import ResultsError
from fdrbench.metrics.frame import Frame, Metric, family
from fdrbench.metrics.options import FamilyOptions
from fdrbench.types import decode_mask

SCORE_MAP_KEY = "mask_scores"
_COLS = ("loc_valid", "loc_inter", "loc_union", "loc_iou", "loc_f1", "loc_auc", "loc_bg_inter", "loc_bg_union", "loc_miou")


def target_shape(shape: tuple[int, int], mask_size: int | None) -> tuple[int, int]:
    """(h, w) after resizing so the longest side is ``mask_size`` (SAM's ResizeLongestSide rounding)."""
    h, w = shape
    if mask_size is None:
        return h, w
    scale = mask_size / max(h, w, 1)
    return int(h * scale + 0.5), int(w * scale + 0.5)


def resize_mask(mask: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Nearest-neighbour resize of a boolean mask to ``shape``."""
    if mask.shape == tuple(shape):
        return mask
    from PIL import Image

    img = Image.fromarray(mask.astype(np.uint8) * 255)
    return np.asarray(img.resize((shape[1], shape[0]), Image.NEAREST)) > 127


def resize_scores(scores: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Bilinear resize of a [0, 1] score map to ``shape``."""
    if scores.shape == tuple(shape):
        return scores
    from PIL import Image

    img = Image.fromarray(scores.astype(np.float32), mode="F")
    return np.asarray(img.resize((shape[1], shape[0]), Image.BILINEAR), dtype=np.float32)


def encode_score_map(scores: np.ndarray) -> dict:
    """A per-pixel tampering probability map as ``{"size": [h, w], "png": base64 8-bit PNG}``.

    Stored in ``Prediction.extra["mask_scores"]`` it lets ``pixel_auc`` rank pixels; 256
    levels are ample for an AUC and keep a prediction line small.
    """
    from PIL import Image

    arr = np.asarray(scores, dtype=float)
    if arr.ndim != 2 or not np.all(np.isfinite(arr)) or arr.min() < 0 or arr.max() > 1:
        raise ValueError(f"a score map must be a 2-D array of values in [0, 1], got shape {arr.shape}")
    buffer = io.BytesIO()
    Image.fromarray(np.round(arr * 255).astype(np.uint8), mode="L").save(buffer, format="PNG")
    return {"size": [int(arr.shape[0]), int(arr.shape[1])], "png": base64.b64encode(buffer.getvalue()).decode("ascii")}


def decode_score_map(data: dict) -> np.ndarray:
    """Inverse of :func:`encode_score_map` (values in [0, 1], 256 levels)."""
    from PIL import Image

    try:
        raw = base64.b64decode(data["png"], validate=True)
        with Image.open(io.BytesIO(raw)) as img:
            arr = np.asarray(img.convert("L"), dtype=np.float32) / 255.0
        size = [int(v) for v in data["size"]]
    except Exception as exc:  # any malformed field or image is the same error for the caller
        raise ValueError(f"a score map must be {{'size': [h, w], 'png': base64 PNG}} ({exc})") from exc
    if list(arr.shape) != size:
        raise ValueError(f"score map image is {list(arr.shape)}, its 'size' says {size}")
    return arr


def pixel_counts(truth: np.ndarray, pred: np.ndarray) -> tuple[int, int, int, int]:
    """(intersection, union, false positives, false negatives) of two boolean masks."""
    inter = int(np.count_nonzero(truth & pred))
    union = int(np.count_nonzero(truth | pred))
    return inter, union, union - int(np.count_nonzero(truth)), union - int(np.count_nonzero(pred))


def image_auc(truth: np.ndarray, scores: np.ndarray) -> float:
    """Pixel ROC AUC (ties count half); NaN when the truth is all tampered or all intact."""
    t = truth.ravel()
    n_pos = int(np.count_nonzero(t))
    n_neg = t.size - n_pos
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    s = np.asarray(scores, dtype=float).ravel()
    from scipy.stats import rankdata

    ranks = rankdata(s)
    return float((ranks[t].sum() - n_pos * (n_pos + 1) / 2.0) / (n_pos * n_neg))


def image_scores(truth: np.ndarray, pred: np.ndarray, score_map: np.ndarray | None = None, mask_size: int | None = None) -> dict:
    """Every per-image quantity for one tampered image, at the stated resolution."""
    shape = target_shape(truth.shape, mask_size)
    truth = resize_mask(truth, shape)
    pred = resize_mask(pred, shape)
    inter, union, fp, fn = pixel_counts(truth, pred)
    if score_map is not None:
        auc = image_auc(truth, resize_scores(score_map, shape))
    else:
        # a binary score ranks with ties: the Mann-Whitney AUC reduces to (TPR + TNR) / 2
        n_pos = inter + fn
        n_neg = truth.size - n_pos
        auc = float("nan") if n_pos == 0 or n_neg == 0 else (inter / n_pos + 1.0 - fp / n_neg) / 2.0
    bg_inter, bg_union = truth.size - union, truth.size - inter
    iou = 1.0 if union == 0 else inter / union
    return {
        "inter": inter,
        "union": union,
        "iou": iou,
        "bg_inter": bg_inter,
        "bg_union": bg_union,
        "miou": (iou + (1.0 if bg_union == 0 else bg_inter / bg_union)) / 2.0,
        "f1": 1.0 if 2 * inter + fp + fn == 0 else 2 * inter / (2 * inter + fp + fn),
        "auc": auc,
    }


# --------------------------------------------------------------------------- registry entries


@dataclass(frozen=True)
class LocalizationOptions(FamilyOptions):
    """``mask_size``: compare masks with the longest side resized to this (None: the truth's size)."""

    mask_size: int | None = None


def _is_target(truth) -> bool:
    if truth.mask is None:
        return False
    return truth.cls == "tampered" if truth.cls is not None else truth.label == 1


def _decode(rle: dict, sid: str, what: str) -> np.ndarray:
    try:
        return decode_mask(rle)
    except ValueError as exc:
        raise ResultsError(f"sample {sid!r}: {what} is not a valid run-length mask ({exc})") from exc


def _prepare(frame: Frame) -> None:
    if "loc_valid" in frame.columns or any(name in frame.unavailable for name in METRICS):
        return
    n = len(frame)
    targets = [i for i in range(n) if _is_target(frame.records[i].truth)]
    reason = None
    if not targets:
        reason = "no tampered image with a ground-truth mask"
    elif not any(p.mask is not None or SCORE_MAP_KEY in (p.extra or {}) for p in frame.predictions):
        reason = "the detector predicts no masks"
    if reason is not None:
        for name in METRICS:
            frame.unavailable[name] = reason
        return
    mask_size = frame.family_options(LocalizationOptions).mask_size
    cols = {name: np.zeros(n, dtype=float) for name in _COLS}
    cols["loc_valid"] = np.zeros(n, dtype=bool)
    cols["loc_auc"][:] = np.nan
    n_scores = 0
    any_foreground = False
    for i in targets:
        sid = str(frame.ids[i])
        truth = _decode(frame.records[i].truth.mask, sid, "truth.mask")
        any_foreground = any_foreground or bool(truth.any())
        pred_obj = frame.predictions[i]
        pred = _decode(pred_obj.mask, sid, "the predicted mask") if pred_obj.mask is not None else np.zeros(truth.shape, dtype=bool)
        if pred.shape != truth.shape:
            pred = resize_mask(pred, truth.shape)
        score_map = None
        if SCORE_MAP_KEY in (pred_obj.extra or {}):
            try:
                score_map = decode_score_map(pred_obj.extra[SCORE_MAP_KEY])
            except ValueError as exc:
                raise ResultsError(f"sample {sid!r}: extra.{SCORE_MAP_KEY}: {exc}") from exc
            n_scores += 1
        out = image_scores(truth, pred, score_map, mask_size)
        cols["loc_valid"][i] = True
        cols["loc_inter"][i], cols["loc_union"][i] = out["inter"], out["union"]
        cols["loc_iou"][i], cols["loc_f1"][i], cols["loc_auc"][i] = out["iou"], out["f1"], out["auc"]
        cols["loc_bg_inter"][i], cols["loc_bg_union"][i], cols["loc_miou"][i] = out["bg_inter"], out["bg_union"], out["miou"]
    if not any_foreground:
        decodings = ", ".join(f"{k} ({n})" for k, n in truth_decodings(frame, targets).items()) or "not recorded"
        raise ResultsError(
            f"all {len(targets)} ground-truth masks of tampered images are empty (decoded: {decodings}); "
            "the mask rule does not fit this release, so localization cannot be scored"
        )
    frame.columns.update(cols)
    frame.columns["loc_n_score_maps"] = np.array([n_scores])


def truth_decodings(frame: Frame, rows) -> dict[str, int]:
    """``"<rule> of <values>" -> number of truth masks`` over ``rows``, from ``truth.mask.decoded``."""
    counts: dict[str, int] = {}
    for i in rows:
        decoded = (frame.records[i].truth.mask or {}).get("decoded")
        if isinstance(decoded, dict):
            key = f"{decoded.get('rule')} of {decoded.get('values')}"
            counts[key] = counts.get(key, 0) + 1
    return dict(sorted(counts.items()))


def _masked_mean(column: str, valid: str = "loc_valid"):
    def compute(frame: Frame, idx: np.ndarray) -> np.ndarray:
        values = frame.columns[column][idx]
        ok = frame.columns[valid][idx] & np.isfinite(values)
        total = np.where(ok, values, 0.0).sum(axis=-1)
        count = ok.sum(axis=-1)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(count > 0, total / np.maximum(count, 1), np.nan)

    return compute


def _summed_iou(frame: Frame, idx: np.ndarray, inter_col: str, union_col: str) -> np.ndarray:
    valid = frame.columns["loc_valid"][idx]
    inter = np.where(valid, frame.columns[inter_col][idx], 0.0).sum(axis=-1)
    union = np.where(valid, frame.columns[union_col][idx], 0.0).sum(axis=-1)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(union > 0, inter / np.maximum(union, 1), np.nan)


def _ciou(frame: Frame, idx: np.ndarray) -> np.ndarray:
    return _summed_iou(frame, idx, "loc_inter", "loc_union")


def _cmiou(frame: Frame, idx: np.ndarray) -> np.ndarray:
    return (_ciou(frame, idx) + _summed_iou(frame, idx, "loc_bg_inter", "loc_bg_union")) / 2.0


def _details(frame: Frame, rows: np.ndarray) -> dict:
    mask_size = frame.family_options(LocalizationOptions).mask_size
    valid = frame.columns["loc_valid"][rows]
    with_mask = sum(1 for i in rows[valid] if frame.predictions[i].mask is not None)
    out = {
        "resolution": "ground-truth mask size" if mask_size is None else f"longest side {int(mask_size)} px",
        "n_images": int(valid.sum()),
        "n_with_predicted_mask": int(with_mask),
        "pixel_auc_from": "score maps" if int(frame.columns["loc_n_score_maps"][0]) else "binary masks",
    }
    decodings = truth_decodings(frame, rows[valid])
    if decodings:
        out["truth_mask_decoding"] = decodings
    return out


METRICS: dict[str, Metric] = family(
    "localization",
    (
        Metric("giou", _masked_mean("loc_iou"), "mean per-image IoU of predicted and true masks (tampered images)", prepare=_prepare),
        Metric("ciou", _ciou, "cumulative IoU: summed intersections over summed unions (tampered images)", prepare=_prepare),
        Metric("pixel_f1", _masked_mean("loc_f1"), "mean per-image pixel F1 (tampered images)", prepare=_prepare, details=_details),
        Metric("pixel_auc", _masked_mean("loc_auc"), "mean per-image pixel ROC AUC (tampered images)", prepare=_prepare),
        Metric(
            "miou", _masked_mean("loc_miou"), "mean per-image mean of foreground and background IoU (tampered images)", prepare=_prepare
        ),
        Metric("cmiou", _cmiou, "foreground and background IoU from summed intersections and unions, averaged", prepare=_prepare),
    ),
    LocalizationOptions,
)
