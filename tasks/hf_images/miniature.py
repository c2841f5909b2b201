"""Miniature Hugging Face image datasets: parquet shards (with or without ClassLabel features), ``save_to_disk``
folders, and a Hub cache snapshot at a commit, for the tests of ``--task hf``."""

from __future__ import annotations

from pathlib import Path

from fdrbench.tasks.common.miniature import COLOURS, image_bytes, write_parquet
from fdrbench.tasks.common.own_data import CLASS_WORDS

#: (label as the class name, generator, source)
ROWS = [("real", None, "flickr"), ("fake", "SDXL", "web"), ("fake", "Midjourney v6", "web"), ("real", None, "camera")]


def columns(names: tuple[str, ...] | None = ("real", "fake"), broken: int | None = None) -> tuple[dict, dict]:
    """Columns and ``datasets`` features: the label a ClassLabel over ``names``, or (``names`` None) bare ints, 1 = fake.
    Row ``broken`` gets image bytes that do not decode."""
    import datasets

    data: dict[str, list] = {"image": [], "label": [], "generator": [], "source": [], "uid": []}
    for i, (cls, generator, source) in enumerate(ROWS):
        data["image"].append({"bytes": b"not an image" if i == broken else image_bytes(COLOURS[i]), "path": None})
        data["label"].append(next(k for k, n in enumerate(names) if CLASS_WORDS[n] == cls) if names else int(cls == "fake"))
        data["generator"].append(generator)
        data["source"].append(source)
        data["uid"].append(f"img-{i:03d}")
    label = datasets.ClassLabel(names=list(names)) if names else datasets.Value("int64")
    features = {
        "image": datasets.Image(),
        "label": label,
        "generator": datasets.Value("string"),
        "source": datasets.Value("string"),
        "uid": datasets.Value("string"),
    }
    return data, features


def build_parquet(root: Path, split: str = "test", names: tuple[str, ...] | None = ("real", "fake"), broken: int | None = None) -> Path:
    """``root/data/<split>-00000-of-00001.parquet``, as a Hub snapshot lays a split out."""
    data, features = columns(names, broken)
    write_parquet(root / "data" / f"{split}-00000-of-00001.parquet", data, features)
    return root


def build_saved(root: Path, splits: tuple[str, ...] | None = ("test", "train")) -> Path:
    """``DatasetDict.save_to_disk`` (``splits``) or, with ``splits`` None, ``Dataset.save_to_disk``."""
    import datasets

    data, features = columns()
    dataset = datasets.Dataset.from_dict(data, features=datasets.Features(features))
    if splits is None:
        dataset.save_to_disk(str(root))
    else:
        datasets.DatasetDict({s: dataset for s in splits}).save_to_disk(str(root))
    return root


def build_hub_cache(cache: Path, repo: str, commit: str, names: tuple[str, ...] = ("real", "fake")) -> Path:
    """The Hugging Face cache holding ``repo`` at ``commit`` (``refs/main`` points there), readable offline."""
    folder = cache / f"datasets--{repo.replace('/', '--')}"
    (folder / "refs").mkdir(parents=True, exist_ok=True)
    (folder / "refs" / "main").write_text(commit)
    build_parquet(folder / "snapshots" / commit, names=names)
    return cache
