"""The contracts between the parts: samples in, predictions out, one label convention.

Inside fdrbench a fake image is 1 and a real image is 0, everywhere. Tasks convert each
dataset's own convention at the boundary (see ``tasks/``); nothing downstream converts again.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, fields
from typing import TYPE_CHECKING, Any, ClassVar

import msgspec

from fdrbench.errors import DataError, ResultsError
from fdrbench.media import (  # noqa: F401 - the public names of fdrbench.types, kept where users import them
    MAX_MASK_PIXELS,
    ImageSource,
    MaskSource,
    check_mask,
    decode_image,
    decode_mask,
    describe_values,
    encode_mask,
    image_size,
    load_mask,
    load_mask_info,
    mask_problems,
    open_image,
)

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np
    from PIL import Image

REAL = 0
FAKE = 1
BINARY_CLASSES = ("real", "fake")
TERNARY_CLASSES = ("real", "full_synthetic", "tampered")
LABEL_NAMES = {REAL: "real", FAKE: "fake"}
#: the longest explanation or raw output kept (characters); longer ones are cut when predicted
MAX_TEXT_CHARS = 65_536
#: the longest error message kept (characters)
MAX_ERROR_CHARS = 4_000
#: the largest ``extra`` object a prediction may carry, as compact JSON (characters), and how deep it may nest
MAX_EXTRA_CHARS = 65_536
MAX_EXTRA_DEPTH = 16


def label_of_class(cls: str) -> int:
    """Binary label of a class name: every class but ``real`` is fake."""
    if cls not in TERNARY_CLASSES and cls not in BINARY_CLASSES:
        raise ValueError(f"unknown class {cls!r}; expected one of {TERNARY_CLASSES + BINARY_CLASSES[1:]}")
    return REAL if cls == "real" else FAKE


# --------------------------------------------------------------------------- samples


class Reference(msgspec.Struct):
    """Ground-truth explanation: the text the metrics compare against and its structured parts.

    ``text`` is the single reference the paper's metrics use; ``texts`` holds every reference
    when a dataset has several (multi-reference BLEU/ROUGE); ``parts`` keeps the structure a
    dataset provides (attribute descriptions, regions, per-question answers, ...). A typed
    struct, because it is stored with every prediction (see :mod:`fdrbench.record`).
    """

    text: str | None = None
    texts: list[str] = msgspec.field(default_factory=list)
    parts: dict[str, Any] = msgspec.field(default_factory=dict)

    def all_texts(self) -> list[str]:
        if self.texts:
            return list(self.texts)
        return [self.text] if self.text else []

    def to_dict(self) -> dict:
        return {"text": self.text, "texts": list(self.texts), "parts": dict(self.parts)}


class Truth(msgspec.Struct):
    """What scoring needs to know about a sample, stored beside its prediction (fake = 1).

    Part of every line of ``predictions.jsonl`` (:class:`fdrbench.record.Record`).
    """

    CLASSES: ClassVar[frozenset] = frozenset(TERNARY_CLASSES + BINARY_CLASSES)

    label: int
    cls: str | None = None
    group: dict[str, str] = msgspec.field(default_factory=dict)
    reference: Reference = msgspec.field(default_factory=Reference)
    image: str | None = None
    question: str | None = None
    mask: dict[str, Any] | None = None
    #: what the sample's bytes are, where the annotations alone do not say it: a digest of the image
    #: file (a folder of one's own images) or ``dataset@revision`` (a Hub dataset); part of the fingerprint
    content: str | None = None

    @classmethod
    def of(cls, sample: Sample, include_mask: bool = True) -> Truth:
        """The truth of a sample, as the sample states it (:meth:`Sample.truth`)."""
        return sample.truth(include_mask=include_mask)

    def fingerprint_item(self, sample_id: str) -> list:
        """What the data fingerprint hashes for this sample (annotations and, when recorded, the content identity)."""
        item = [sample_id, self.label, self.cls, self.group, self.reference.to_dict(), self.question]
        return item if self.content is None else [*item, self.content]

    def problems(self) -> list[str]:
        out = []
        if self.label not in (0, 1):
            out.append(f"truth.label must be 0 (real) or 1 (fake), got {self.label!r}")
        if self.cls is not None:
            if self.cls not in self.CLASSES:
                out.append(f"truth.cls {self.cls!r} is not one of {', '.join(TERNARY_CLASSES)}")
            elif self.label in (0, 1) and label_of_class(self.cls) != self.label:
                out.append(f"truth.cls {self.cls!r} disagrees with truth.label {self.label}")
        out.extend(mask_problems(self.mask, "truth.mask"))
        return out


@dataclass
class Sample:
    """One benchmark item. Images and masks are opened lazily, only when a detector asks.

    ``label`` is None only for a held-out benchmark's public release, whose labels stay with its
    organiser (:meth:`fdrbench.api.task.Task.has_labels`): such samples can be predicted
    (``fdrbench run --predict-only``) but have no truth to store or score.
    """

    id: str
    label: int | None
    image: ImageSource | None = None
    image_ref: str | None = None
    cls: str | None = None
    group: dict[str, str] = field(default_factory=dict)
    reference: Reference = field(default_factory=Reference)
    mask: MaskSource | None = None
    question: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)
    #: the content identity stored in the truth (:attr:`Truth.content`), or a function computing it once
    content: str | Callable[[], str] | None = None
    _image_cache: Any = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.label not in (REAL, FAKE, None):
            raise DataError(f"label must be 0 (real), 1 (fake) or None (held out), got {self.label!r}", record=self.id)
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

    def content_id(self) -> str | None:
        """:attr:`content`, computed on first use and kept (a digest reads the whole file once)."""
        if callable(self.content):
            self.content = str(self.content())
        return self.content

    def truth(self, include_mask: bool = True) -> Truth:
        """What scoring needs to know about this sample, stored beside its prediction (the mask
        run-length encoded). A sample seen through a transformation overrides it."""
        if self.label is None:
            raise DataError(
                "this sample has no label (a held-out benchmark's public data): it can be predicted with "
                "`fdrbench run --predict-only`, not scored",
                record=self.id,
            )
        mask = None
        if include_mask and self.mask is not None:
            loaded, info = self.load_mask_info()
            mask = {**encode_mask(loaded), **({"decoded": info} if info else {})} if loaded is not None else None
        return Truth(
            label=self.label,
            cls=self.cls,
            group=dict(self.group),
            reference=self.reference,
            image=self.image_ref,
            question=self.question,
            mask=mask,
            content=self.content_id(),
        )


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
        from fdrbench.redact import redact_text

        text = error if isinstance(error, str) else f"{type(error).__name__}: {error}"
        return cls(sample_id=sample_id, parse_ok=False, error=redact_text(text)[:MAX_ERROR_CHARS])
