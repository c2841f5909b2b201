"""Miniature So-Fake-OOD releases, one per released version, as a Hub snapshot holds them.

The quirks kept: the two versions' different class maps (v1 ``full_synthetic, real, tampered``;
v2 ``real, tampered, full_synthetic``), v2's generator spellings (``Seedream3.0``, ``GPT4o``,
``Ideogram 3.0``) and its generator/source/split columns that v1 lacks, v1's generator only in
tampered file names, masks on tampered rows only, the class map in the dataset card as well as
in the parquet features metadata (either can be left out).
"""

from __future__ import annotations

from pathlib import Path

from fdrbench.tasks.common.miniature import COLOURS, image_bytes, mask_bytes

NAMES = {"v1": ["full_synthetic", "real", "tampered"], "v2": ["real", "tampered", "full_synthetic"]}


def release_rows(version: str) -> list[dict]:
    """Rows by class name; the integer label is filled in from the version's own name list."""
    rows = [
        {"cls": "real", "filename": "reddit_00001.jpg", "generator": None, "source": "reddit"},
        {"cls": "real", "filename": "reddit_00002.jpg", "generator": None, "source": "reddit"},
        {"cls": "full_synthetic", "filename": "full_synthetic_00001.png", "generator": "Seedream3.0", "source": "EarthPorn"},
        {"cls": "full_synthetic", "filename": "full_synthetic_00002.png", "generator": "GPT4o", "source": "pics"},
        {"cls": "tampered", "filename": "part1_09462_openai_tampered.png", "generator": "openai", "source": "pics"},
        {"cls": "tampered", "filename": "part1_00007_flux_tampered.png", "generator": "Ideogram 3.0", "source": "CityPorn"},
    ]
    if version == "v1":
        for row in rows:
            row["generator"] = row["source"] = None
    return rows


def build(root: Path, version: str = "v2", card: bool = True, metadata: bool = True, mask: dict | None = None) -> Path:
    """``root/data/test-00000-of-00001.parquet`` (+ README.md) as the Hub snapshot of one version holds it;
    ``mask`` overrides :func:`~fdrbench.tasks.common.miniature.mask_bytes`'s ``value`` / ``edge``
    (``{"value": 100, "edge": None}``: the two-valued gray-100 masks of the release's figures)."""
    import datasets

    names = NAMES[version]
    rows = release_rows(version)
    columns: dict[str, list] = {"image": [], "label": [], "mask": [], "filename": []}
    features = {
        "image": datasets.Image(),
        "label": datasets.ClassLabel(names=names),
        "mask": datasets.Image(),
        "filename": datasets.Value("string"),
    }
    if version == "v2":
        columns.update(generator=[], source=[], split=[])
        features.update(generator=datasets.Value("string"), source=datasets.Value("string"), split=datasets.Value("string"))
    for i, row in enumerate(rows):
        columns["image"].append(
            {"bytes": image_bytes(COLOURS[i % 6], fmt="JPEG" if row["filename"].endswith(".jpg") else "PNG"), "path": None}
        )
        columns["label"].append(names.index(row["cls"]))
        columns["mask"].append({"bytes": mask_bytes(**(mask or {})), "path": None} if row["cls"] == "tampered" else None)
        columns["filename"].append(row["filename"])
        if version == "v2":
            columns["generator"].append(row["generator"])
            columns["source"].append(row["source"])
            columns["split"].append("test")
    dataset = datasets.Dataset.from_dict(columns, features=datasets.Features(features))
    path = root / "data" / "test-00000-of-00001.parquet"
    path.parent.mkdir(parents=True, exist_ok=True)
    if metadata:
        dataset.to_parquet(str(path))
    else:  # a parquet written by another tool: no features metadata, labels as bare integers
        import pyarrow.parquet as pq

        table = dataset.data.table.replace_schema_metadata(None)
        pq.write_table(table, path)
    if card:
        class_label = "\n".join(f"            '{i}': {name}" for i, name in enumerate(names))
        (root / "README.md").write_text(
            "---\nlicense: cc-by-4.0\ndataset_info:\n  features:\n  - name: image\n    dtype: image\n  - name: label\n"
            f"    dtype:\n      class_label:\n        names:\n{class_label}\n  splits:\n  - name: test\n---\n# So-Fake-OOD\n",
            encoding="utf-8",
        )
    return root
