"""Builds the demo benchmark: seeded, byte-for-byte reproducible, from photos shipped in scikit-image.

Real images are crops of those photographs. Three procedural "generators" leave different
traces, as real generators do:

* ``gan`` - generation at half resolution, then a transposed-convolution upsampler whose
  slightly uneven kernel leaves a periodic (checkerboard) pattern: sharp spectral peaks.
* ``diffusion`` - re-synthesis that removes sensor noise and fine texture, adds a smooth
  low-frequency field and re-sharpens edges: a depleted high-frequency spectrum.
* ``tampered`` - a real crop with one region replaced by upsampled content from another
  photograph, feathered at the border; the binary mask of the region is saved.

Everything is written in MMFR's released layout (``evaluation_sets/<set>/{0_real,1_fake}``
plus ``<set>_reasoning.json`` in MMFR's attribute schema), so the MMFR loader reads it too;
masks go to ``<set>/masks/<image stem>_mask.png`` and the training split also gets a
LLaVA-format chain-of-thought file like MMFR's ``forgery_reasoning_cot.json``.

This is a smoke benchmark for the pipeline. Its traces are far easier than real generators'.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from fdrbench.progress import progress_bar
from fdrbench.tasks.mmfr.loader import AUTHENTIC_ATTRIBUTES, FORGERY_ATTRIBUTES
from fdrbench.tasks.mmfr.task import PROMPT

DEMO_VERSION = "1"
DEMO_SEED = 0
SIZE = 128
SETS = ("gan", "diffusion", "tampered")
PER_LABEL = {"train": 60, "test": 40}
BUILD_FILE = "BUILD.json"


@dataclass(frozen=True)
class Photo:
    file: str
    subject: str


PHOTOS = (
    Photo("astronaut.png", "an astronaut in a spacesuit posing in front of a flag"),
    Photo("chelsea.png", "a tabby cat looking to the side"),
    Photo("coffee.png", "a cup of coffee on a saucer"),
    Photo("rocket.jpg", "a rocket standing on its launch pad"),
    Photo("motorcycle_left.png", "a motorcycle parked in a workshop"),
    Photo("motorcycle_right.png", "a motorcycle seen from a slightly different angle"),
    Photo("retina.jpg", "a medical photograph of the back of an eye"),
    Photo("hubble_deep_field.jpg", "a telescope view of many distant galaxies"),
    Photo("ihc.png", "a stained tissue sample under a microscope"),
    Photo("camera.png", "a man operating a camera on a tripod"),
    Photo("brick.png", "a weathered brick wall"),
    Photo("grass.png", "a close view of grass"),
    Photo("gravel.png", "a bed of gravel"),
    Photo("coins.png", "old coins on a dark cloth"),
    Photo("moon.png", "the cratered surface of the moon"),
    Photo("cell.png", "cells seen through a microscope"),
)


def photo_dir() -> Path:
    import skimage

    return Path(skimage.__file__).resolve().parent / "data"


def load_photos() -> list[np.ndarray]:
    """The source photographs as float RGB arrays in [0, 1]."""
    from PIL import Image

    out = []
    for photo in PHOTOS:
        with Image.open(photo_dir() / photo.file) as img:
            out.append(np.asarray(img.convert("RGB"), dtype=np.float32) / 255.0)
    return out


# --------------------------------------------------------------------------- image operations


def _resize(arr: np.ndarray, size: tuple[int, int], resample: str) -> np.ndarray:
    from PIL import Image

    img = Image.fromarray(to_uint8(arr))
    filt = {"lanczos": Image.Resampling.LANCZOS, "bicubic": Image.Resampling.BICUBIC}[resample]
    return np.asarray(img.resize((size[1], size[0]), filt), dtype=np.float32) / 255.0


def to_uint8(arr: np.ndarray) -> np.ndarray:
    return np.clip(np.round(arr * 255.0), 0, 255).astype(np.uint8)


def random_crop(photo: np.ndarray, rng: np.random.Generator, size: int = SIZE) -> np.ndarray:
    """A square crop at a random position and scale (1, 1.5 or 2 times ``size``, downscaled)."""
    h, w = photo.shape[:2]
    scales = [s for s in (1.0, 1.5, 2.0) if min(h, w) >= size * s]
    window = int(round(size * scales[int(rng.integers(len(scales)))]))
    y = int(rng.integers(0, h - window + 1))
    x = int(rng.integers(0, w - window + 1))
    patch = photo[y : y + window, x : x + window]
    if window != size:
        patch = _resize(patch, (size, size), "lanczos")
    if rng.random() < 0.5:
        patch = patch[:, ::-1]
    return np.ascontiguousarray(patch, dtype=np.float32)


def _gaussian(arr: np.ndarray, sigma: float) -> np.ndarray:
    from scipy.ndimage import gaussian_filter

    sigmas = (sigma, sigma, 0) if arr.ndim == 3 else sigma
    return gaussian_filter(arr, sigma=sigmas, mode="reflect")


def _upsampler_kernel() -> np.ndarray:
    """The 'learned' 4x4 transposed-convolution kernel: bilinear, perturbed once, unevenly."""
    taps = np.array([0.25, 0.75, 0.75, 0.25])
    kernel = np.outer(taps, taps)
    noise = np.random.default_rng([DEMO_SEED, 7]).normal(0.0, 0.06, size=(4, 4))
    return kernel + noise


def gan_like(src: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Half-resolution content, upsampled by a transposed convolution: periodic spectral peaks."""
    from scipy.ndimage import convolve

    h, w, _ = src.shape
    low = src.reshape(h // 2, 2, w // 2, 2, 3).mean(axis=(1, 3))
    kernel = _upsampler_kernel()
    up = np.empty_like(src)
    for c in range(3):
        zeros = np.zeros((h, w), dtype=np.float32)
        zeros[::2, ::2] = low[:, :, c]
        up[:, :, c] = convolve(zeros, kernel, mode="reflect")
    detail = src - _gaussian(src, 1.0)
    tint = rng.normal(0.0, 0.01, size=3).astype(np.float32)
    return np.clip(up + 0.5 * detail + tint, 0.0, 1.0)


def diffusion_like(src: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Noise-free, smoothed re-synthesis with a low-frequency field and re-sharpened edges."""
    base = _gaussian(src, float(rng.uniform(1.0, 1.6)))
    field = _gaussian(rng.normal(0.0, 1.0, size=src.shape[:2]).astype(np.float32), 4.0)
    field = field / (field.std() + 1e-6) * 0.015
    out = base + field[:, :, None]
    out = out + 0.6 * (out - _gaussian(out, 2.0))
    return np.clip(out, 0.0, 1.0)


def region_mask(rng: np.random.Generator, size: int = SIZE) -> np.ndarray:
    """A rectangle or ellipse covering roughly 6-20 % of the image."""
    side_h = int(rng.integers(int(0.25 * size), int(0.45 * size)))
    side_w = int(rng.integers(int(0.25 * size), int(0.45 * size)))
    top = int(rng.integers(4, size - side_h - 4))
    left = int(rng.integers(4, size - side_w - 4))
    mask = np.zeros((size, size), dtype=bool)
    if rng.random() < 0.5:
        mask[top : top + side_h, left : left + side_w] = True
    else:
        yy, xx = np.mgrid[0:size, 0:size]
        cy, cx = top + side_h / 2, left + side_w / 2
        mask = ((yy - cy) / (side_h / 2)) ** 2 + ((xx - cx) / (side_w / 2)) ** 2 <= 1.0
    return mask


def tamper(base: np.ndarray, donor_photo: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Replace a region of ``base`` with upsampled content of another photograph; returns (image, mask)."""
    mask = region_mask(rng, base.shape[0])
    donor = random_crop(donor_photo, rng, size=SIZE // 2)
    donor = _resize(donor, base.shape[:2], "bicubic") * np.float32(rng.uniform(0.85, 1.15))
    alpha = _gaussian(mask.astype(np.float32), 0.8)[:, :, None]
    return np.clip(base * (1.0 - alpha) + donor * alpha, 0.0, 1.0), mask


# --------------------------------------------------------------------------- annotations

_REAL_TEXT = {
    "Consistent Lighting and Shadows": (
        "Light falls evenly on {subject} and the shadows agree with one source.",
        "Highlights and shadows on {subject} are consistent with each other.",
    ),
    "Smooth and Natural Image Edges": (
        "Object outlines are crisp where they should be and blend naturally elsewhere.",
        "Edges around {subject} look natural, without halos or ripples.",
    ),
    "Natural and Consistent Image Texture": (
        "A fine, even grain from the camera sensor covers the whole picture.",
        "Surface texture is rich and varies naturally across {subject}.",
    ),
    "High Image Quality": (
        "Fine detail is preserved at every scale.",
        "The picture is sharp with natural noise and no processing artefacts.",
    ),
    "Semantic Rationality": ("The scene, {subject}, is physically plausible.", "Everything in the picture belongs together: {subject}."),
}
_FAKE_TEXT = {
    "gan": {
        "Anomalous Image Texture": (
            "A faint, regular grid pattern repeats across {subject}.",
            "Texture shows a periodic checkerboard pattern typical of learned upsampling.",
        ),
        "Irregular Image Edges": (
            "Edges show small periodic stair-step ripples.",
            "Outlines of {subject} carry a repeating ripple rather than a clean transition.",
        ),
        "Low Image Quality": ("Colours look slightly shifted and fine detail is coarse.", None),
    },
    "diffusion": {
        "Anomalous Image Texture": (
            "Surfaces of {subject} are unnaturally smooth and lack camera grain.",
            "The texture looks painted: fine grain and noise are missing everywhere.",
        ),
        "Irregular Image Edges": ("Edges look over-sharpened, with faint halos around contrasty outlines.", None),
        "Low Image Quality": ("Fine detail looks washed out, as if redrawn at a lower resolution.", None),
    },
    "tampered": {
        "Inconsistent Lighting and Shadows": ("The brightness inside the {where} region does not match its surroundings.", None),
        "Irregular Image Edges": (
            "A soft boundary encloses a region in the {where} of the image.",
            "Content changes abruptly along a closed outline in the {where}.",
        ),
        "Anomalous Image Texture": ("The texture inside the {where} region is smoother than the rest of the image.", None),
        "Semantic Irrationality": (
            "Part of {donor} appears inside {subject}, where it does not belong.",
            "A patch of {donor} is inserted into {subject}.",
        ),
    },
}
_EXTRA_REAL_KEY = "Natural Color Distribution"


def _where(mask: np.ndarray) -> str:
    ys, xs = np.nonzero(mask)
    cy, cx = ys.mean() / mask.shape[0], xs.mean() / mask.shape[1]
    vert = "upper" if cy < 1 / 3 else "lower" if cy > 2 / 3 else "middle"
    horiz = "left" if cx < 1 / 3 else "right" if cx > 2 / 3 else "centre"
    return "centre" if (vert, horiz) == ("middle", "centre") else f"{vert} {horiz}"


def _pick(options: tuple, rng: np.random.Generator) -> str | None:
    return options[int(rng.integers(len(options)))]


def real_attributes(subject: str, rng: np.random.Generator) -> dict:
    attrs: dict[str, str | None] = {}
    for key in AUTHENTIC_ATTRIBUTES:
        text = _pick(_REAL_TEXT[key], rng)
        attrs[key] = text.format(subject=subject) if rng.random() < 0.85 else None
    if rng.random() < 0.1:  # released real entries sometimes carry an extra, non-canonical key
        attrs[_EXTRA_REAL_KEY] = "Colours are natural and balanced."
    return attrs


def fake_attributes(kind: str, subject: str, rng: np.random.Generator, where: str = "", donor: str = "") -> dict:
    attrs: dict[str, str | None] = {key: None for key in FORGERY_ATTRIBUTES}
    for key, options in _FAKE_TEXT[kind].items():
        text = _pick(options, rng)
        attrs[key] = text.format(subject=subject, where=where, donor=donor) if text else None
    return attrs


def cot_answer(caption: str, attributes: dict, label: int) -> str:
    """A training target in the SUMMARY / CAPTION / REASONING / CONCLUSION format of MMFR's CoT."""
    semantic = {"Semantic Irrationality", "Semantic Rationality"}
    low = " ".join(v for k, v in sorted(attributes.items()) if v and k not in semantic) or "No low-level cue stands out."
    high = " ".join(v for k, v in sorted(attributes.items()) if v and k in semantic) or "The content itself gives no clear cue."
    verdict = "fake" if label else "real"
    return (
        "<SUMMARY> I will examine the image's low-level traces and its content, then state whether it is real or fake. </SUMMARY> "
        f"<CAPTION> {caption} </CAPTION> "
        f"<REASONING> From low-level perspective: {low} From high-level perspective: {high} </REASONING> "
        f"<CONCLUSION> This image is {verdict}. </CONCLUSION>"
    )


# --------------------------------------------------------------------------- build


def _save_png(arr: np.ndarray, path: Path) -> None:
    from PIL import Image

    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(arr if arr.dtype == np.uint8 else to_uint8(arr)).save(path, format="PNG")


def _make_one(split_no: int, set_no: int, label: int, index: int, photos: list[np.ndarray]) -> dict:
    """One image, its attributes and (for tampered) mask, from its own seed."""
    rng = np.random.default_rng([DEMO_SEED, split_no, set_no, label, index])
    kind = SETS[set_no]
    p = int(rng.integers(len(PHOTOS)))
    src = random_crop(photos[p], rng)
    subject = PHOTOS[p].subject
    out: dict = {"subject": subject, "mask": None}
    if label == 0:
        out["image"] = src
        out["attributes"] = real_attributes(subject, rng)
        out["caption"] = f"The image shows {subject}."
    elif kind == "tampered":
        d = int((p + 1 + rng.integers(len(PHOTOS) - 1)) % len(PHOTOS))
        image, mask = tamper(src, photos[d], rng)
        out.update(image=image, mask=mask)
        out["attributes"] = fake_attributes(kind, subject, rng, where=_where(mask), donor=PHOTOS[d].subject)
        out["caption"] = f"The image shows {subject}, with a patch that seems to contain {PHOTOS[d].subject}."
    else:
        make: Callable = gan_like if kind == "gan" else diffusion_like
        out["image"] = make(src, rng)
        out["attributes"] = fake_attributes(kind, subject, rng)
        out["caption"] = f"The image shows {subject}."
    return out


def _write_split(root: Path, split: str, photos: list[np.ndarray], show_progress: bool) -> dict:
    split_no = list(PER_LABEL).index(split)
    per_label = PER_LABEL[split]
    eval_root = root / split / "evaluation_sets"
    conversations = []
    counts: dict = {}
    total = len(SETS) * 2 * per_label
    with progress_bar(total, f"building demo {split}", enabled=show_progress) as bar:
        for set_no, kind in enumerate(SETS):
            reasoning: dict[str, dict] = {}
            for label, folder in ((0, "0_real"), (1, "1_fake")):
                for index in range(per_label):
                    item = _make_one(split_no, set_no, label, index, photos)
                    name = f"{kind}_{'fake' if label else 'real'}_{index:04d}.png"
                    path = eval_root / kind / folder / name
                    _save_png(item["image"], path)
                    if item["mask"] is not None:
                        _save_png((item["mask"] * 255).astype(np.uint8), eval_root / kind / "masks" / f"{path.stem}_mask.png")
                    key = f"{kind}/{folder}/{name}"
                    reasoning[key] = item["attributes"]
                    conversations.append(
                        {
                            "id": key,
                            "image": f"evaluation_sets/{key}",
                            "conversations": [
                                {"from": "human", "value": "<image>\n" + PROMPT},
                                {"from": "gpt", "value": cot_answer(item["caption"], item["attributes"], label)},
                            ],
                        }
                    )
                    bar.advance()
                counts[f"{kind}/{folder}"] = per_label
            with open(eval_root / kind / f"{kind}_reasoning.json", "w", encoding="utf-8") as handle:
                json.dump(reasoning, handle, indent=1, ensure_ascii=False)
    if split == "train":
        with open(root / split / "forgery_reasoning_cot.json", "w", encoding="utf-8") as handle:
            json.dump(conversations, handle, indent=1, ensure_ascii=False)
    return counts


def file_hashes(root: Path) -> dict[str, str]:
    out = {}
    for path in sorted(p for p in root.rglob("*") if p.is_file() and p.name != BUILD_FILE):
        out[path.relative_to(root).as_posix()] = hashlib.sha256(path.read_bytes()).hexdigest()
    return out


def build_info(root: Path) -> dict | None:
    path = root / BUILD_FILE
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, OSError):
        return None


def is_current(root: Path) -> bool:
    info = build_info(root)
    return bool(info) and info.get("version") == DEMO_VERSION and info.get("seed") == DEMO_SEED


def build(root: Path, show_progress: bool = True) -> Path:
    """Build the demo into ``root`` (atomically: a half-built folder is never left in its place)."""
    root = Path(root)
    if root.exists() and build_info(root) is None and any(root.iterdir()):
        from fdrbench.errors import DataError

        raise DataError("folder exists and is not a demo build; refusing to overwrite it", path=root)
    staging = root.parent / f".{root.name}.building-{os.getpid()}"
    if staging.exists():
        shutil.rmtree(staging)
    photos = load_photos()
    counts = {split: _write_split(staging, split, photos, show_progress) for split in PER_LABEL}
    info = {"version": DEMO_VERSION, "seed": DEMO_SEED, "size": SIZE, "counts": counts, "files": file_hashes(staging)}
    (staging / BUILD_FILE).write_text(json.dumps(info, indent=1, sort_keys=True), encoding="utf-8")
    if root.exists():
        shutil.rmtree(root)
    root.parent.mkdir(parents=True, exist_ok=True)
    os.replace(staging, root)
    return root
