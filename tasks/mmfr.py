"""MMFR (FakeReasoning) evaluation sets, read from the released folder tree.

Layout (after joining and extracting the released archive)::

    <root>/evaluation_sets/<set>/0_real/<image>      label 0
    <root>/evaluation_sets/<set>/1_fake/<image>      label 1
    <root>/evaluation_sets/<set>/<set>_reasoning.json

``<root>`` may also be the folder that contains ``dataset/``. Each reasoning file maps
``"<set>/<0_real|1_fake>/<file>"`` to attribute descriptions (or null); the reference text
is the non-null descriptions in sorted key order joined by one space, as the paper's
evaluation script builds it. Images without an annotation entry keep an empty reference
(the dataset dropped annotations that failed review).
"""

from __future__ import annotations

import json
import os
import warnings
from collections.abc import Iterable, Iterator
from pathlib import Path

from fdrbench.errors import DataError
from fdrbench.task import HEADLINE_METRICS, Aggregate, Protocol, Task
from fdrbench.types import FAKE, REAL, Reference, Sample

MMFR_SETS = ("stablediffusion", "dalle3", "if", "midjourney", "kandinsky", "pixart", "flux", "gpt4o", "styleganxl", "gigagan")
DM_SETS = MMFR_SETS[:8]
GAN_SETS = ("styleganxl", "gigagan")
FORGERY_ATTRIBUTES = (
    "Inconsistent Lighting and Shadows",
    "Irregular Image Edges",
    "Anomalous Image Texture",
    "Low Image Quality",
    "Semantic Irrationality",
)
AUTHENTIC_ATTRIBUTES = (
    "Consistent Lighting and Shadows",
    "Smooth and Natural Image Edges",
    "Natural and Consistent Image Texture",
    "High Image Quality",
    "Semantic Rationality",
)
PROMPT = (
    "Is this image real or fake? Please describe the image, reasoning step-by-step and conclude with "
    "'this image is real' or 'this image is fake'."
)
LABEL_FOLDERS = {"0_real": REAL, "1_fake": FAKE}
IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".webp", ".bmp", ".tif", ".tiff", ".gif"})
DOWNLOAD_HINT = (
    "download the dataset.part*.tar files of HF AnnaGao/MMFR-Dataset, concatenate them in numeric part "
    "order (part1, part2, ..., part10, ...) into one tar, extract it, and pass --data-dir <folder>"
)


def reference_text(attributes: dict) -> str:
    """The paper's ground-truth reasoning string: non-null descriptions, keys sorted, space-joined."""
    return " ".join(str(attributes[key]) for key in sorted(attributes) if attributes[key] is not None)


def evaluation_root(data_dir: Path) -> Path:
    """``<data_dir>/evaluation_sets`` or ``<data_dir>/dataset/evaluation_sets``."""
    for candidate in (data_dir / "evaluation_sets", data_dir / "dataset" / "evaluation_sets"):
        if candidate.is_dir():
            return candidate
    raise DataError("no evaluation_sets/ folder (looked in it and in dataset/)", path=data_dir, hint=DOWNLOAD_HINT)


def read_reasoning(path: Path) -> dict[str, dict]:
    """One ``<set>_reasoning.json``: key -> attribute dict; malformed entries are errors naming the key."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise DataError(f"not valid JSON ({exc})", path=path) from exc
    if not isinstance(data, dict):
        raise DataError(f"expected a JSON object of image key -> attributes, got {type(data).__name__}", path=path)
    for key, value in data.items():
        if not isinstance(value, dict):
            raise DataError(f"expected an object of attribute -> description or null, got {type(value).__name__}", path=path, record=key)
        for attr, text in value.items():
            if text is not None and not isinstance(text, str):
                raise DataError(f"attribute {attr!r} must be a string or null, got {type(text).__name__}", path=path, record=key)
    return data


def set_names(eval_root: Path) -> list[str]:
    """Set folders present: the paper's ten in the paper's order, then any others sorted."""
    present = {p.name for p in eval_root.iterdir() if p.is_dir() and any((p / f).is_dir() for f in LABEL_FOLDERS)}
    return [s for s in MMFR_SETS if s in present] + sorted(present - set(MMFR_SETS))


def iter_set(eval_root: Path, set_name: str) -> Iterator[tuple[str, int, Path, dict | None]]:
    """(key, label, image path, attributes or None) for every image of one set."""
    set_dir = eval_root / set_name
    reasoning_path = set_dir / f"{set_name}_reasoning.json"
    reasoning: dict[str, dict] = {}
    if reasoning_path.is_file():
        reasoning = read_reasoning(reasoning_path)
    else:
        warnings.warn(f"{reasoning_path} not found: samples of set {set_name!r} have no reference reasoning", stacklevel=2)
    for folder, label in LABEL_FOLDERS.items():
        label_dir = set_dir / folder
        if not label_dir.is_dir():
            continue
        for path in sorted(label_dir.iterdir()):
            if path.is_file() and path.suffix.lower() in IMAGE_SUFFIXES:
                key = f"{set_name}/{folder}/{path.name}"
                yield key, label, path, reasoning.get(key)


class MMFREval(Task):
    name = "mmfr_eval"
    version = "1"
    description = "MMFR evaluation sets: 1,000 real + 1,000 fake per generator, with GPT-4o attribute reasoning"
    label_space = "binary"
    prompt = PROMPT
    group_keys = ("generator",)
    aggregates = {
        "DM": Aggregate("generator", DM_SETS, description="mean of the 8 diffusion/autoregressive sets"),
        "GAN": Aggregate("generator", GAN_SETS, description="mean of StyleGAN-XL and GigaGAN"),
        "AVG": Aggregate("generator", MMFR_SETS, description="mean of all 10 sets"),
    }
    splits = ("test",)
    default_split = "test"
    download_hint = DOWNLOAD_HINT
    has_reference_text = True
    headline_metrics = (*HEADLINE_METRICS, "bleu1", "rouge_l", "css")

    def option_names(self) -> tuple[str, ...]:
        """``clip_path``: the CLIP folder whose text tower gives the paper protocol's CSS."""
        return ("clip_path",)

    def protocols(self) -> dict[str, Protocol]:
        """``strict``, and ``paper``: FakeReasoning's own evaluation. Its CSS needs a CLIP folder:
        the ``clip_path`` option, else ``$FDRBENCH_CLIP_PATH`` (so a stored run can be re-scored
        with CLIP without re-running it); the folder used is recorded in the protocol's options."""
        from fdrbench.tasks.paper_protocols import mmfr_paper

        clip_path = self.options.get("clip_path") or os.environ.get("FDRBENCH_CLIP_PATH") or None
        return {**super().protocols(), "paper": mmfr_paper(clip_path=clip_path)}

    def make_sample(self, key: str, label: int, path: Path, attributes: dict | None, root: Path, set_name: str) -> Sample:
        reference = Reference(text=reference_text(attributes), parts={"attributes": attributes}) if attributes else Reference()
        return Sample(
            id=key,
            label=label,
            image=path,
            image_ref=path.relative_to(root).as_posix(),
            group={"generator": set_name},
            reference=reference,
        )

    def samples(self, data_dir: Path, split: str) -> Iterable[Sample]:
        eval_root = evaluation_root(data_dir)
        for set_name in set_names(eval_root):
            for key, label, path, attributes in iter_set(eval_root, set_name):
                yield self.make_sample(key, label, path, attributes, data_dir, set_name)
