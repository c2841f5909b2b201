"""Samples seen through a perturbation: image, mask and annotated regions transformed together.

:func:`perturb_sample` wraps a :class:`~fdrbench.types.Sample` without touching it. Nothing is read
when wrapping: the image is decoded and perturbed when the detector asks for it; the mask and the
regions are transformed when the truth is taken, with the geometry the image went through (or,
if the image was not loaded, the same geometry planned from the image's header size). The
wrapper keeps the sample's id, so runs under different perturbations pair sample by sample.

Regions are read from the reference's structured parts, the convention the judge reads too: any
top-level part that is a list of objects with ``"box"`` or ``"region"`` = ``[x, y, w, h]`` and/or
``"polygon"`` = ``[[x, y], ...]`` in pixels. After the geometry, the box is the bounding box of
the moved corners clipped to the new image (None when nothing of it is left), and when the moved
box is no longer axis-aligned its exact corners are kept under ``"polygon"``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from dataclasses import fields
from importlib import metadata
from pathlib import Path
from typing import Any

import msgspec
import numpy as np

from fdrbench.perturb.geometry import Plan
from fdrbench.perturb.presets import parse
from fdrbench.perturb.spec import Perturbation
from fdrbench.types import Sample, Truth, image_size, load_mask_info, open_image

BOX_KEYS = ("box", "region")
DIGITS = 3  # coordinates are kept to a thousandth of a pixel


class PerturbedSample(Sample):
    """A sample whose image loader, mask and truth pass through ``perturbation`` at ``seed``."""

    def __init__(self, base: Sample, perturbation: Perturbation, seed: int = 0):
        values = {f.name: getattr(base, f.name) for f in fields(Sample) if f.name != "_image_cache"}
        super().__init__(**values)
        self.base = base
        self.perturbation = perturbation
        self.seed = int(seed)
        self._plan: Plan | None = None

    def load_image(self):
        if self._image_cache is None:
            image, plan = self.perturbation.apply(open_image(self.image, sample_id=self.id), self.id, self.seed)
            self._plan = plan
            self._image_cache = image
        return self._image_cache

    def geometry(self) -> Plan:
        """The geometry this sample's image goes through (planned from the header if not loaded)."""
        if self._plan is None:
            size = self._source_size()
            self._plan = self.perturbation.plan(size, self.id, self.seed) if self.perturbation.geometric else Plan(size, size)
        return self._plan

    def _source_size(self) -> tuple[int, int]:
        """(width, height) from the file's header when the image is a file, else by decoding it."""
        if isinstance(self.image, (str, Path)) and Path(self.image).is_file():
            return image_size(self.image, self.id)
        return open_image(self.image, sample_id=self.id).size

    def load_mask_info(self) -> tuple[np.ndarray | None, dict]:
        mask, info = load_mask_info(self.mask, sample_id=self.id)
        if mask is None or not self.perturbation.geometric:
            return mask, info
        return self.geometry().warp_mask(mask), info

    def truth(self, include_mask: bool = True) -> Truth:
        out = super().truth(include_mask=include_mask)
        if self.perturbation.geometric and has_regions(self.reference.parts):
            moved = transform_parts(self.reference.parts, self.geometry())
            out = msgspec.structs.replace(out, reference=msgspec.structs.replace(out.reference, parts=moved))
        return out


def perturb_sample(sample: Sample, perturbation: Perturbation | str | None, seed: int = 0) -> Sample:
    """``sample`` under ``perturbation`` (a spec, preset member or parsed one); None returns it as is."""
    if perturbation is None:
        return sample
    if isinstance(sample, PerturbedSample):
        raise ValueError(f"sample {sample.id!r} is already perturbed by {sample.perturbation}; compose the specs instead")
    return PerturbedSample(sample, parse(perturbation), seed)


def perturb_samples(samples: Iterable[Sample], perturbation: Perturbation | str | None, seed: int = 0) -> Iterator[Sample]:
    """Lazily wrap every sample; the spec is parsed once, before the first sample is read."""
    parsed = None if perturbation is None else parse(perturbation)
    return (perturb_sample(sample, parsed, seed) for sample in samples)


# --------------------------------------------------------------------------- regions


def _box_of(item: dict) -> tuple[str, list] | None:
    for key in BOX_KEYS:
        box = item.get(key)
        if isinstance(box, list) and len(box) == 4 and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in box):
            return key, box
    return None


def _polygon_of(item: dict) -> list | None:
    polygon = item.get("polygon")
    ok = isinstance(polygon, list) and len(polygon) >= 3
    ok = ok and all(isinstance(p, (list, tuple)) and len(p) == 2 and all(isinstance(v, (int, float)) for v in p) for p in polygon)
    return polygon if ok else None


def _is_region(item: Any) -> bool:
    return isinstance(item, dict) and (_box_of(item) is not None or _polygon_of(item) is not None)


def has_regions(parts: dict) -> bool:
    return any(isinstance(value, list) and any(_is_region(item) for item in value) for value in parts.values())


def _rounded(xy: np.ndarray) -> list[list[float]]:
    return [[round(float(x), DIGITS), round(float(y), DIGITS)] for x, y in xy]


def _clipped_box(xy: np.ndarray, size: tuple[int, int]) -> list[float] | None:
    low = np.clip(xy.min(axis=0), 0, size)
    high = np.clip(xy.max(axis=0), 0, size)
    if np.any(high - low <= 0):
        return None
    return [round(float(v), DIGITS) for v in (low[0], low[1], high[0] - low[0], high[1] - low[1])]


def transform_region(item: dict, plan: Plan) -> dict:
    """One region object with its box and polygon moved by ``plan``; other keys are kept."""
    out = dict(item)
    found = _box_of(item)
    if found is not None:
        key, (x, y, w, h) = found
        corners = plan.map_points([[x, y], [x + w, y], [x + w, y + h], [x, y + h]])
        out[key] = _clipped_box(corners, plan.size_out)
        edges = np.abs(np.diff(np.vstack([corners, corners[:1]]), axis=0))
        if not np.allclose(edges.min(axis=1), 0, atol=1e-6) and _polygon_of(item) is None:
            out["polygon"] = _rounded(corners)
    polygon = _polygon_of(item)
    if polygon is not None:
        out["polygon"] = _rounded(plan.map_points(polygon))
    return out


def transform_parts(parts: dict, plan: Plan) -> dict:
    """A copy of ``parts`` with every region list transformed; everything else as it was."""
    out = {}
    for key, value in parts.items():
        if isinstance(value, list) and any(_is_region(item) for item in value):
            out[key] = [transform_region(item, plan) if _is_region(item) else item for item in value]
        else:
            out[key] = value
    return out


# --------------------------------------------------------------------------- provenance


def library_versions(perturbation: Perturbation) -> dict[str, str]:
    """Versions of what decides the perturbed bytes: Pillow, its codecs, NumPy and SciPy as used."""
    from PIL import features

    versions: dict[str, str] = {}
    for name in perturbation.libraries:
        if name in ("libjpeg", "libwebp"):
            version = features.version({"libjpeg": "jpg", "libwebp": "webp"}[name])
            if name == "libjpeg" and features.check_feature("libjpeg_turbo"):
                versions["libjpeg_turbo"] = str(features.version("libjpeg_turbo"))
        else:
            try:
                version = metadata.version(name)
            except metadata.PackageNotFoundError:
                version = None
        if version:
            versions[name] = str(version)
    return versions


def describe(perturbation: Perturbation | str, seed: int = 0) -> dict:
    """What a run's manifest records about its perturbation, and what its fingerprint folds in."""
    parsed = parse(perturbation)
    return {
        "spec": parsed.canonical,
        "hash": parsed.hash,
        "name": parsed.name,
        "seed": int(seed) if parsed.random else None,
        "random": parsed.random,
        "geometric": parsed.geometric,
        "libraries": library_versions(parsed),
    }


def perturbed_fingerprint(clean_fingerprint: str, perturbation: Perturbation | str, seed: int = 0) -> str:
    """The data fingerprint of a perturbed run: the clean one, the canonical spec and, when the
    perturbation draws anything, the seed; library versions stay in the manifest only."""
    info = describe(perturbation, seed)
    text = f"{clean_fingerprint}\n{info['spec']}\n{info['seed']}"
    return hashlib.sha256(text.encode()).hexdigest()


def run_id_part(perturbation: Perturbation | str) -> str:
    """A short, filesystem-safe label for run ids: the member name or spec, then the hash."""
    parsed = parse(perturbation)
    label = (parsed.name or parsed.canonical).replace("/", "-")
    safe = "".join(c if c.isalnum() or c in ".-" else "_" for c in label)[:40].strip("_")
    return f"{safe}-{parsed.hash[:8]}"
