"""Format parity: do real and fake images differ in how they were stored?

When the real images of a benchmark are JPEGs from cameras and the fakes are PNGs straight out
of a generator, a detector can score well by recognising the codec, not the forgery. For each
label (and each value of a group key such as ``generator``) this reports the container formats,
the JPEG quality estimated from the quantization tables, image sizes and EXIF presence, and
warns where real and fake differ. Only file headers and tables are read; no pixel is decoded
for images stored as files.

JPEG quality is the IJG quality whose scaled Annex K tables (libjpeg's ``jpeg_quality_scaling``)
match the file's luminance and chrominance tables; ``exact`` says they matched entry for entry
(files from libjpeg-based encoders: PIL, OpenCV, most web tools). Other encoders (cameras,
some editors) get the nearest quality and are counted as non-standard.
"""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from fdrbench.progress import progress_bar
from fdrbench.types import LABEL_NAMES, Sample

# ITU-T T.81 Annex K, tables K.1 and K.2, in row-major (natural) order, as PIL reports them
LUMINANCE = (
    (16, 11, 10, 16, 24, 40, 51, 61), (12, 12, 14, 19, 26, 58, 60, 55), (14, 13, 16, 24, 40, 57, 69, 56),
    (14, 17, 22, 29, 51, 87, 80, 62), (18, 22, 37, 56, 68, 109, 103, 77), (24, 35, 55, 64, 81, 104, 113, 92),
    (49, 64, 78, 87, 103, 121, 120, 101), (72, 92, 95, 98, 112, 100, 103, 99),
)  # fmt: skip
CHROMINANCE = (
    (17, 18, 24, 47, 99, 99, 99, 99), (18, 21, 26, 66, 99, 99, 99, 99), (24, 26, 56, 99, 99, 99, 99, 99),
    (47, 66, 99, 99, 99, 99, 99, 99), (99, 99, 99, 99, 99, 99, 99, 99), (99, 99, 99, 99, 99, 99, 99, 99),
    (99, 99, 99, 99, 99, 99, 99, 99), (99, 99, 99, 99, 99, 99, 99, 99),
)  # fmt: skip

#: thresholds of the warnings: share differences, quality difference, size ratio
FORMAT_GAP = 0.2  # total variation distance between the two labels' format mixes
QUALITY_GAP = 5  # difference of median JPEG quality
DOMINANT_SIZE = 0.9  # one size covers this share of one label ...
RARE_SIZE = 0.5  # ... and less than this of the other
SIDE_RATIO = 1.25  # ratio of median longest sides
EXIF_GAP = 0.3  # difference of the shares with EXIF


@lru_cache(maxsize=1)
def ijg_tables() -> np.ndarray:
    """``(100, 2, 64)``: the luminance and chrominance tables libjpeg writes at quality 1..100."""
    base = np.array([np.ravel(LUMINANCE), np.ravel(CHROMINANCE)], dtype=np.int64)
    out = np.empty((100, 2, 64), dtype=np.int64)
    for quality in range(1, 101):
        scale = 5000 // quality if quality < 50 else 200 - 2 * quality
        out[quality - 1] = np.clip((base * scale + 50) // 100, 1, 255)
    return out


def jpeg_quality(quantization: dict[int, Any]) -> tuple[int, bool] | None:
    """(IJG quality, exact match) of a JPEG's quantization tables, or None without tables."""
    if not quantization or 0 not in quantization:
        return None
    tables = ijg_tables()
    luma = np.asarray(list(quantization[0]), dtype=np.int64)
    if luma.size != 64:
        return None
    distance = np.abs(tables[:, 0, :] - luma).sum(axis=1)
    if 1 in quantization and len(quantization[1]) == 64:
        distance = distance + np.abs(tables[:, 1, :] - np.asarray(list(quantization[1]), dtype=np.int64)).sum(axis=1)
    best = int(np.argmin(distance))
    return best + 1, bool(distance[best] == 0)


@dataclass(frozen=True)
class StoredAs:
    """How one image is stored."""

    format: str  # PIL's format name (JPEG, PNG, WEBP, ...), "in-memory" or "unreadable"
    size: tuple[int, int] | None = None
    quality: int | None = None
    standard_tables: bool = False
    exif: bool = False


def _inspect(handle: Any, fallback: str) -> StoredAs:
    estimate = jpeg_quality(getattr(handle, "quantization", None) or {}) if handle.format == "JPEG" else None
    try:
        exif = bool(handle.getexif()) or bool(handle.info.get("exif"))
    except Exception:  # a malformed EXIF block is still an EXIF block
        exif = True
    return StoredAs(
        format=handle.format or fallback,
        size=tuple(handle.size),
        quality=estimate[0] if estimate else None,
        standard_tables=bool(estimate and estimate[1]),
        exif=exif,
    )


def stored_as(sample: Sample) -> StoredAs:
    """Read the header (and quantization tables) of a sample's image file.

    An image loader that offers ``encoded() -> bytes`` (the undecoded stored bytes, as the
    parquet loaders do) is read the same way; any other loader is called and reports the
    format its image kept, or ``in-memory``.
    """
    import io

    from PIL import Image

    source = sample.image
    try:
        if isinstance(source, (str, Path)):
            with Image.open(source) as handle:
                return _inspect(handle, "unknown")
        encoded = getattr(source, "encoded", None)
        if callable(encoded):
            data = encoded()
            if data is not None:
                with Image.open(io.BytesIO(data)) as handle:
                    return _inspect(handle, "unknown")
        if callable(source):
            return _inspect(source(), "in-memory")
    except Exception:  # the data check counts unreadable images itself; here they are a column
        return StoredAs("unreadable")
    return StoredAs("unreadable")


def summarise(items: list[StoredAs]) -> dict:
    """Counts of formats, qualities, sizes and EXIF over ``items`` (``_size_counts`` is for
    :func:`compare` only and is left out of the report)."""
    readable = [i for i in items if i.size is not None]
    qualities = [i.quality for i in readable if i.quality is not None]
    sizes = Counter(f"{i.size[0]}x{i.size[1]}" for i in readable)
    common, common_n = sizes.most_common(1)[0] if sizes else (None, 0)
    return {
        "n": len(items),
        "formats": dict(Counter(i.format for i in items).most_common()),
        "jpeg": {
            "n": len(qualities),
            "qualities": dict(sorted(Counter(qualities).items())),
            "median_quality": statistics.median(qualities) if qualities else None,
            "nonstandard_tables": sum(1 for i in readable if i.quality is not None and not i.standard_tables),
        },
        "sizes": {
            "distinct": len(sizes),
            "most_common": common,
            "most_common_share": common_n / len(readable) if readable else None,
            "median_long_side": statistics.median(max(i.size) for i in readable) if readable else None,
        },
        "exif": sum(1 for i in readable if i.exif),
        "_size_counts": sizes,
    }


def _shares(counts: dict[str, int]) -> dict[str, float]:
    total = sum(counts.values()) or 1
    return {key: n / total for key, n in counts.items()}


def _mix(counts: dict[str, int]) -> str:
    return ", ".join(f"{share:.0%} {key}" for key, share in _shares(counts).items())


def compare(real: dict, fake: dict, where: str = "") -> list[str]:
    """Warnings where ``fake``'s storage differs from ``real``'s (two :func:`summarise` outputs)."""
    if not real["n"] or not fake["n"]:
        return []
    prefix = f"{where}: " if where else ""
    out = []
    real_mix, fake_mix = _shares(real["formats"]), _shares(fake["formats"])
    gap = 0.5 * sum(abs(real_mix.get(k, 0) - fake_mix.get(k, 0)) for k in set(real_mix) | set(fake_mix))
    if gap >= FORMAT_GAP:
        out.append(f"{prefix}container formats differ: real {_mix(real['formats'])}; fake {_mix(fake['formats'])}")
    rq, fq = real["jpeg"]["median_quality"], fake["jpeg"]["median_quality"]
    if rq is not None and fq is not None and abs(rq - fq) >= QUALITY_GAP:
        out.append(f"{prefix}JPEG quality differs: median {rq:g} for real, {fq:g} for fake")
    for one, other, name, other_name in ((real, fake, "real", "fake"), (fake, real, "fake", "real")):
        size, share = one["sizes"]["most_common"], one["sizes"]["most_common_share"]
        if size and share >= DOMINANT_SIZE and other["sizes"]["distinct"]:
            other_share = _size_share(other, size)
            if other_share < RARE_SIZE:
                out.append(f"{prefix}image size differs: {share:.0%} of {name} images are {size}, {other_share:.0%} of {other_name}")
                break
    rs, fs = real["sizes"]["median_long_side"], fake["sizes"]["median_long_side"]
    if rs and fs and max(rs, fs) / min(rs, fs) >= SIDE_RATIO:
        out.append(f"{prefix}image size differs: median longest side {rs:g} px for real, {fs:g} px for fake")
    r_exif, f_exif = real["exif"] / real["n"], fake["exif"] / fake["n"]
    if abs(r_exif - f_exif) >= EXIF_GAP:
        out.append(f"{prefix}EXIF differs: {r_exif:.0%} of real images carry EXIF, {f_exif:.0%} of fake")
    return out


def _size_share(summary: dict, size: str) -> float:
    return summary["_size_counts"].get(size, 0) / max(1, sum(summary["_size_counts"].values()))


def _public(summary: dict) -> dict:
    return {k: v for k, v in summary.items() if not k.startswith("_")}


def format_parity(samples: Iterable[Sample], group_key: str | None = "generator", show_progress: bool = False) -> dict:
    """The parity report: per label, per value of ``group_key`` (when samples carry it), warnings.

    A group's fakes are compared with the group's own reals when it has some, else with all reals.
    """
    samples = list(samples)
    seen: list[tuple[Sample, StoredAs]] = []
    with progress_bar(len(samples), "reading image headers", enabled=show_progress) as bar:
        for sample in samples:
            seen.append((sample, stored_as(sample)))
            bar.advance()
    by_label = {name: summarise([s for sample, s in seen if LABEL_NAMES[sample.label] == name]) for name in ("real", "fake")}
    warnings = compare(by_label["real"], by_label["fake"])
    groups: dict[str, dict[str, dict]] = {}
    key = group_key if group_key and any(group_key in sample.group for sample, _ in seen) else None
    if key is not None:
        values = sorted({str(sample.group.get(key)) for sample, _ in seen if key in sample.group})
        for value in values:
            members = [(sample, s) for sample, s in seen if str(sample.group.get(key)) == value]
            cells = {name: summarise([s for sample, s in members if LABEL_NAMES[sample.label] == name]) for name in ("real", "fake")}
            baseline = cells["real"] if cells["real"]["n"] else by_label["real"]
            warnings.extend(compare(baseline, cells["fake"], f"{key}={value}"))
            groups[value] = {name: _public(cell) for name, cell in cells.items() if cell["n"]}
    return {
        "n": len(seen),
        "by_label": {name: _public(cell) for name, cell in by_label.items()},
        "group_key": key,
        "by_group": groups,
        "warnings": warnings,
    }


def describe_cell(cell: dict) -> tuple[str, str, str, str, str]:
    """One summary as table cells: n, formats, JPEG quality, sizes, EXIF share."""
    jpeg, sizes = cell["jpeg"], cell["sizes"]
    if jpeg["n"]:
        qualities = list(jpeg["qualities"])
        quality = f"median {jpeg['median_quality']:g} ({min(qualities)}-{max(qualities)})"
        quality += f", {jpeg['nonstandard_tables']} non-standard" if jpeg["nonstandard_tables"] else ""
    else:
        quality = "-"
    if sizes["distinct"] == 1:
        size = sizes["most_common"]
    elif sizes["distinct"]:
        size = f"{sizes['distinct']} sizes, {sizes['most_common_share']:.0%} {sizes['most_common']}, median long side {sizes['median_long_side']:g}"
    else:
        size = "-"
    exif = f"{cell['exif'] / cell['n']:.0%}" if cell["n"] else "-"
    return str(cell["n"]), _mix(cell["formats"]), quality, size, exif
