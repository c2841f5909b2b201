"""The contracts between the parts: samples in, predictions out, one label convention.

Inside fdrbench a fake image is 1 and a real image is 0, everywhere. Tasks convert each
dataset's own convention at the boundary (see ``tasks/``); nothing downstream converts again.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any, Union

from fdrbench.errors import DataError, ResultsError

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np
    from PIL import Image

REAL = 0
FAKE = 1
BINARY_CLASSES = ("real", "fake")
TERNARY_CLASSES = ("real", "full_synthetic", "tampered")
LABEL_NAMES = {REAL: "real", FAKE: "fake"}
#: the largest mask decoded (pixels): twice Pillow's decompression-bomb warning size, as Pillow refuses images
MAX_MASK_PIXELS = 2 * 89_478_485

ImageSource = Union[str, "os.PathLike[str]", Callable[[], "Image.Image"]]
MaskSource = Union[str, "os.PathLike[str]", Callable[[], "np.ndarray"], "np.ndarray", dict]


def label_of_class(cls: str) -> int:
    """Binary label of a class name: every class but ``real`` is fake."""
    if cls not in TERNARY_CLASSES and cls not in BINARY_CLASSES:
        raise ValueError(f"unknown class {cls!r}; expected one of {TERNARY_CLASSES + BINARY_CLASSES[1:]}")
    return REAL if cls == "real" else FAKE


# --------------------------------------------------------------------------- masks


def encode_mask(mask: np.ndarray) -> dict:
    """Run-length encode a 2-D binary mask, row-major, starting with a run of zeros.

    ``{"size": [h, w], "counts": [zeros, ones, zeros, ...]}``: small enough to keep one per
    line in ``predictions.jsonl`` and exact on decode.
    """
    import numpy as np

    arr = np.asarray(mask)
    if arr.ndim != 2:
        raise ValueError(f"a mask must be 2-D, got shape {arr.shape}")
    flat = (arr > 0).ravel().astype(np.int8)
    change = np.flatnonzero(np.diff(flat)) + 1
    bounds = np.concatenate(([0], change, [flat.size]))
    runs = np.diff(bounds).tolist()
    if flat.size and flat[0] == 1:
        runs = [0, *runs]
    return {"size": [int(arr.shape[0]), int(arr.shape[1])], "counts": [int(r) for r in runs]}


def check_mask(rle: Any) -> tuple[int, int, list[int]]:
    """(h, w, counts) of a run-length mask, checked without decoding it; ``ValueError`` if inconsistent."""
    try:
        h, w = (int(v) for v in rle["size"])
        counts = [int(c) for c in rle["counts"]]
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"a mask must be {{'size': [h, w], 'counts': [...]}}, got {str(rle)[:80]}") from exc
    if h < 0 or w < 0 or any(c < 0 for c in counts) or sum(counts) != h * w:
        raise ValueError(f"mask counts sum to {sum(counts)}, expected {h}*{w}={h * w} with no negative runs")
    if h * w > MAX_MASK_PIXELS:
        raise ValueError(f"a {h}x{w} mask has more than {MAX_MASK_PIXELS} pixels (the decompression limit)")
    return h, w, counts


def decode_mask(rle: dict) -> np.ndarray:
    """Inverse of :func:`encode_mask`; raises ``ValueError`` on an inconsistent encoding."""
    import numpy as np

    h, w, counts = check_mask(rle)
    values = np.zeros(len(counts), dtype=bool)
    values[1::2] = True
    return np.repeat(values, counts).reshape(h, w)


# --------------------------------------------------------------------------- samples


@dataclass
class Reference:
    """Ground-truth explanation: the text the metrics compare against and its structured parts.

    ``text`` is the single reference the paper's metrics use; ``texts`` holds every reference
    when a dataset has several (multi-reference BLEU/ROUGE); ``parts`` keeps the structure a
    dataset provides (attribute descriptions, regions, per-question answers, ...).
    """

    text: str | None = None
    texts: list[str] = field(default_factory=list)
    parts: dict[str, Any] = field(default_factory=dict)

    def all_texts(self) -> list[str]:
        if self.texts:
            return list(self.texts)
        return [self.text] if self.text else []

    def to_dict(self) -> dict:
        return {"text": self.text, "texts": list(self.texts), "parts": dict(self.parts)}

    @classmethod
    def from_dict(cls, data: dict | None) -> Reference:
        data = data or {}
        return cls(text=data.get("text"), texts=list(data.get("texts") or []), parts=dict(data.get("parts") or {}))


@dataclass
class Sample:
    """One benchmark item. Images and masks are opened lazily, only when a detector asks."""

    id: str
    label: int
    image: ImageSource | None = None
    image_ref: str | None = None
    cls: str | None = None
    group: dict[str, str] = field(default_factory=dict)
    reference: Reference = field(default_factory=Reference)
    mask: MaskSource | None = None
    question: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)
    _image_cache: Any = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.label not in (REAL, FAKE):
            raise DataError(f"label must be 0 (real) or 1 (fake), got {self.label!r}", record=self.id)
        if self.cls is not None and label_of_class(self.cls) != self.label:
            raise DataError(f"class {self.cls!r} disagrees with label {self.label}", record=self.id)
        if self.image_ref is None and isinstance(self.image, (str, os.PathLike)):
            self.image_ref = str(self.image)

    def load_image(self) -> Image.Image:
        """The image as RGB, decoded once and kept until :meth:`release_image`."""
        if self._image_cache is None:
            self._image_cache = open_image(self.image, sample_id=self.id)
        return self._image_cache

    def release_image(self) -> None:
        self._image_cache = None

    def load_mask(self) -> np.ndarray | None:
        """The ground-truth mask as a boolean array (True = manipulated), or None."""
        return self.load_mask_info()[0]

    def load_mask_info(self) -> tuple[np.ndarray | None, dict]:
        """The mask and how it was decoded (rule, gray values seen), see :func:`load_mask_info`."""
        return load_mask_info(self.mask, sample_id=self.id)

    def truth(self, include_mask: bool = True) -> dict:
        """What scoring needs to know about this sample, stored beside its prediction."""
        out: dict[str, Any] = {
            "label": self.label,
            "cls": self.cls,
            "group": dict(self.group),
            "reference": self.reference.to_dict(),
            "image": self.image_ref,
        }
        if self.question is not None:
            out["question"] = self.question
        if include_mask and self.mask is not None:
            mask, info = self.load_mask_info()
            out["mask"] = {**encode_mask(mask), **({"decoded": info} if info else {})} if mask is not None else None
        return out


def decode_image(
    source: str | os.PathLike[str] | bytes, kind: str = "image", path: object = None, record: object = None, subject: str = ""
) -> Image.Image:
    """Open and fully decode an image file (or its bytes); any failure is a DataError naming it.

    Image files are untrusted: a decoder can raise almost anything on a crafted file, and Pillow
    refuses a decompression bomb (a small file that claims billions of pixels) with an error of
    its own; each becomes the one-line error of that file and sample.
    """
    import io

    from PIL import Image

    where = path if path is not None else (None if isinstance(source, bytes) else source)
    what = f"{subject} is " if subject else ""
    try:
        with Image.open(io.BytesIO(source) if isinstance(source, bytes) else source) as handle:
            handle.load()
            return handle.copy()
    except Image.DecompressionBombError as exc:
        raise DataError(f"{what}not a readable {kind}: refused as a decompression bomb ({exc})", path=where, record=record) from exc
    except Exception as exc:  # a hostile file can make a decoder raise any type
        raise DataError(f"{what}not a readable {kind} ({type(exc).__name__}: {exc})", path=where, record=record) from exc


def image_size(path: str | os.PathLike[str], record: object = None) -> tuple[int, int]:
    """(width, height) from an image file's header, without decoding the pixels; a DataError otherwise
    (a header claiming a decompression bomb included)."""
    from PIL import Image

    try:
        with Image.open(path) as handle:
            return handle.size
    except Exception as exc:  # a hostile header can make the parser raise any type
        raise DataError(f"not a readable image ({type(exc).__name__}: {exc})", path=path, record=record) from exc


def open_image(source: ImageSource | None, sample_id: str | None = None) -> Image.Image:
    """Open and fully decode an image, naming the file and sample when it cannot be read."""
    if source is None:
        raise DataError("sample has no image", record=sample_id)
    if callable(source):
        img = source()
    else:
        path = Path(source)
        if not path.is_file():
            raise DataError("image file not found", path=path, record=sample_id)
        img = decode_image(path, "image", path, sample_id)
    if img.mode != "RGB":
        img = img.convert("RGB")
    return img


def describe_values(values: np.ndarray) -> str:
    """The set of gray values in a mask, short: ``{0, 100}``, or ``{0, 1, ..., 255} (37 values)``."""
    import numpy as np

    present = [int(v) for v in np.unique(np.asarray(values))]
    if len(present) <= 6:
        return "{" + ", ".join(map(str, present)) + "}"
    return f"{{{present[0]}, {present[1]}, ..., {present[-1]}}} ({len(present)} values)"


def load_mask(source: MaskSource | None, sample_id: str | None = None) -> np.ndarray | None:
    """Read a mask from a file, callable, array or run-length dict into a boolean array.

    Grayscale files are binarised at 128 (``> 127``); tasks whose papers use another rule
    convert before handing the mask over.
    """
    return load_mask_info(source, sample_id)[0]


def load_mask_info(source: MaskSource | None, sample_id: str | None = None) -> tuple[np.ndarray | None, dict]:
    """:func:`load_mask` plus how the mask was decoded: ``{"rule", "values"}`` for a grayscale
    file or a source with a ``decode()`` method (a task's loader), else ``{}``."""
    import numpy as np

    if source is None:
        return None, {}
    if callable(getattr(source, "decode", None)):
        mask, info = source.decode()
        return np.asarray(mask) > 0, dict(info)
    if isinstance(source, (str, os.PathLike)):
        arr = _read_gray(Path(source), sample_id)
        return arr > 127, {"rule": "> 127", "values": describe_values(arr)}
    return _load_plain_mask(source), {}


def _load_plain_mask(source: MaskSource) -> np.ndarray:
    import numpy as np

    if isinstance(source, dict):
        return decode_mask(source)
    if callable(source):
        return np.asarray(source()) > 0
    return np.asarray(source) > 0


def _read_gray(path: Path, sample_id: str | None) -> np.ndarray:
    import numpy as np

    if not path.is_file():
        raise DataError("mask file not found", path=path, record=sample_id)
    return np.asarray(decode_image(path, "mask image", path, sample_id).convert("L"))


# --------------------------------------------------------------------------- predictions


@dataclass
class Prediction:
    """What a detector says about one sample. ``label`` is fake = 1, real = 0, or None when unparsed.

    ``p_fake`` is a probability in [0, 1], or None when the detector cannot give one: the
    threshold-free metrics then say so instead of guessing.
    """

    sample_id: str
    label: int | None = None
    p_fake: float | None = None
    cls: str | None = None
    class_probs: dict[str, float] | None = None
    explanation: str | None = None
    raw_output: str | None = None
    mask: dict | None = None
    parse_ok: bool = True
    error: str | None = None
    latency_s: float | None = None
    n_tokens: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.label is None and self.cls is not None:
            self.label = label_of_class(self.cls)
        if self.p_fake is None and self.class_probs and "real" in self.class_probs:
            self.p_fake = 1.0 - float(self.class_probs["real"])
        if self.label not in (None, REAL, FAKE):
            raise ValueError(f"prediction {self.sample_id}: label must be 0, 1 or None, got {self.label!r}")
        if self.p_fake is not None:
            p = float(self.p_fake)
            if not (0.0 <= p <= 1.0) or math.isnan(p):
                raise ValueError(f"prediction {self.sample_id}: p_fake must be in [0, 1], got {self.p_fake!r}")
            self.p_fake = p
        if self.error is not None:
            self.parse_ok = False

    @property
    def failed(self) -> bool:
        """True when there is no usable verdict: an error, or output that could not be parsed."""
        return self.error is not None or not self.parse_ok or self.label is None

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict, where: str = "prediction") -> Prediction:
        if not isinstance(data, dict) or "sample_id" not in data:
            raise ResultsError(f"{where}: expected an object with a 'sample_id', got {str(data)[:80]}")
        names = {f.name for f in fields(cls)}
        kwargs = {k: v for k, v in data.items() if k in names}
        try:
            return cls(**kwargs)
        except (TypeError, ValueError) as exc:
            raise ResultsError(f"{where}: {exc}") from exc

    @classmethod
    def from_error(cls, sample_id: str, error: BaseException | str) -> Prediction:
        """The prediction of a sample that failed: the error's text, secrets blanked and cut to the stored cap."""
        from fdrbench.contract import MAX_ERROR_CHARS
        from fdrbench.redact import redact_text

        text = error if isinstance(error, str) else f"{type(error).__name__}: {error}"
        return cls(sample_id=sample_id, parse_ok=False, error=redact_text(text)[:MAX_ERROR_CHARS])
