"""``fdrbench data check``: the first thing to run after downloading a benchmark.

For each split it reports whether the annotation files parsed, how many samples there are by
label, class and group, how many images are missing (loaded with ``skip_missing`` so every
missing file is counted rather than stopping at the first) and, unless told not to, how many
images and masks cannot be decoded, the gray-value sets of the masks with the foreground
rule each was read with (a release whose masks use another gray level than the rule expects
shows here first), and whether real and fake images are stored alike (format parity:
containers, JPEG quality, sizes, EXIF; see :mod:`fdrbench.perturb.parity`). A split whose
annotation files are absent is reported as
absent, not as an error, unless it was asked for by name.
"""

from __future__ import annotations

import warnings
from collections import Counter
from pathlib import Path
from typing import Any

from fdrbench.api.task import Task, subsample
from fdrbench.errors import DataError, SplitNotFound
from fdrbench.progress import progress_bar
from fdrbench.types import LABEL_NAMES, Sample

EXAMPLES = 5


def counts_by_group(samples: list[Sample]) -> dict[str, dict[str, dict[str, int]]]:
    """``{key: {value: {"n", "real", "fake"}}}`` over every group key the samples carry."""
    out: dict[str, dict[str, dict[str, int]]] = {}
    for sample in samples:
        for key, value in sample.group.items():
            cell = out.setdefault(key, {}).setdefault(str(value), {"n": 0, "real": 0, "fake": 0})
            cell["n"] += 1
            cell[LABEL_NAMES[sample.label]] += 1
    return {key: dict(sorted(values.items())) for key, values in sorted(out.items())}


def unreadable(samples: list[Sample], show_progress: bool, what: str) -> dict[str, Any]:
    """Decode every image (and mask) of ``samples``; count and name the ones that fail."""
    bad_images: list[str] = []
    bad_masks: list[str] = []
    decodings: Counter[str] = Counter()
    empty_masks = 0
    n_images = n_masks = 0
    with progress_bar(len(samples), f"decoding {what}", enabled=show_progress) as bar:
        for sample in samples:
            n_images += 1
            try:
                sample.load_image()
            except Exception as exc:  # any decoder failure is what this check is for
                bad_images.append(f"{sample.id}: {exc}")
            finally:
                sample.release_image()
            if sample.mask is not None:
                n_masks += 1
                try:
                    mask, info = sample.load_mask_info()
                except Exception as exc:
                    bad_masks.append(f"{sample.id}: {exc}")
                else:
                    decodings[f"{info.get('values', 'values not recorded')} -> {info.get('rule', 'rule not recorded')}"] += 1
                    empty_masks += int(mask is not None and not mask.any())
            bar.advance()
    return {
        "images_checked": n_images,
        "unreadable_images": len(bad_images),
        "masks_checked": n_masks,
        "unreadable_masks": len(bad_masks),
        "mask_decoding": dict(sorted(decodings.items())),
        "empty_masks": empty_masks,
        "examples": (bad_images + bad_masks)[:EXAMPLES],
    }


def check_split(task: Task, data_dir: Path, split: str, decode: bool, limit: int | None, show_progress: bool) -> dict:
    entry: dict[str, Any] = {"split": split}
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            samples = task.load(data_dir, split)
    except SplitNotFound as exc:
        return {**entry, "status": "absent", "annotations_parsed": None, "message": str(exc)}
    except DataError as exc:
        return {**entry, "status": "error", "annotations_parsed": False, "message": str(exc)}
    report_dict = task.load_report()
    labels = Counter(LABEL_NAMES[s.label] for s in samples)
    classes = Counter(s.cls for s in samples if s.cls is not None)
    entry.update(
        status="ok",
        annotations_parsed=True,
        n=len(samples),
        by_label={"real": labels.get("real", 0), "fake": labels.get("fake", 0)},
        by_class=dict(sorted(classes.items())),
        by_group=counts_by_group(samples),
        with_reference=sum(1 for s in samples if s.reference.all_texts()),
        with_mask=sum(1 for s in samples if s.mask is not None),
        with_question=sum(1 for s in samples if s.question),
        missing_images=report_dict["counts"].get("missing_images", 0),
        load_report=report_dict,
    )
    if decode:
        checked = subsample(samples, limit, seed=0) if limit else samples
        entry.update(unreadable(checked, show_progress, f"{task.name}/{split}"))
        from fdrbench.perturb.parity import format_parity

        entry["format_parity"] = format_parity(checked, show_progress=show_progress)
    all_empty = entry.get("masks_checked") and entry.get("empty_masks") == entry["masks_checked"] - entry.get("unreadable_masks", 0)
    if entry["missing_images"] or entry.get("unreadable_images") or entry.get("unreadable_masks") or all_empty:
        entry["status"] = "problems"
    return entry


def check_task(
    task_name: str,
    data_dir: Path | None,
    split: str | None = None,
    task_args: dict | None = None,
    decode: bool = True,
    limit: int | None = None,
    show_progress: bool = True,
) -> dict:
    """The ``data check`` report of every split (or one) of a task."""
    from fdrbench.errors import FdrbenchError
    from fdrbench.resolve import make_task

    options = dict(task_args or {})
    probe = make_task(task_name, options)
    if "skip_missing" in probe.option_names():
        options["skip_missing"] = True
    task = make_task(task_name, options)
    if split is not None and split not in task.splits:
        raise FdrbenchError(f"task {task_name!r} has no split {split!r}; splits: {', '.join(task.splits)}")
    root = task.ensure_data(Path(data_dir) if data_dir else task.default_data_dir())
    splits = [check_split(task, root, s, decode, limit, show_progress) for s in ([split] if split else task.splits)]
    failed = [s for s in splits if s["status"] in ("error", "problems") or (split is not None and s["status"] == "absent")]
    return {
        "task": task.name,
        "task_version": task.version,
        "data_dir": str(root),
        "ok": not failed and any(s["status"] == "ok" for s in splits),
        "splits": splits,
    }


def print_report(report: dict) -> None:
    """The report as terminal tables."""
    from rich.console import Console
    from rich.table import Table

    console = Console()
    console.print(f"[bold]{report['task']}[/bold] (version {report['task_version']}) in {report['data_dir']}")
    for entry in report["splits"]:
        style = {"ok": "green", "absent": "dim", "problems": "yellow", "error": "red"}[entry["status"]]
        console.print(f"\n[bold]split {entry['split']}[/bold]: [{style}]{entry['status']}[/{style}]")
        if entry["status"] in ("absent", "error"):
            console.print(f"  {entry['message']}", markup=False)
            continue
        labels = entry["by_label"]
        console.print(
            f"  annotations parsed; {entry['n']} samples: {labels['real']} real, {labels['fake']} fake"
            + (f"; classes {entry['by_class']}" if entry["by_class"] else ""),
            markup=False,
        )
        console.print(
            f"  with reference text {entry['with_reference']}, with mask {entry['with_mask']}, with question {entry['with_question']}",
            markup=False,
        )
        if "images_checked" in entry:
            console.print(
                f"  missing images {entry['missing_images']}; unreadable images {entry['unreadable_images']} "
                f"of {entry['images_checked']} decoded; unreadable masks {entry['unreadable_masks']} of {entry['masks_checked']}",
                markup=False,
            )
        else:
            console.print(f"  missing images {entry['missing_images']} (images not decoded: --no-decode)", markup=False)
        for decoding, n in entry.get("mask_decoding", {}).items():
            console.print(f"  mask values {decoding}: {n} masks", markup=False)
        if entry.get("masks_checked"):
            empty = entry["empty_masks"]
            note = (
                " - every mask is empty: the foreground rule does not fit these masks" if empty and empty == entry["masks_checked"] else ""
            )
            console.print(f"  empty masks {empty} of {entry['masks_checked']}{note}", markup=False)
        for kind, n in entry["load_report"]["counts"].items():
            console.print(f"  {kind.replace('_', ' ')}: {n}, e.g. {entry['load_report']['examples'][kind][0]}", markup=False)
        for example in entry.get("examples", []):
            console.print(f"  unreadable: {example}", markup=False)
        for key, values in entry["by_group"].items():
            table = Table(title=f"by {key}", title_justify="left", header_style="bold")
            for column in (key, "n", "real", "fake"):
                table.add_column(column, justify="left" if column == key else "right")
            for value, cell in values.items():
                table.add_row(value, str(cell["n"]), str(cell["real"]), str(cell["fake"]))
            console.print(table)
        if "format_parity" in entry:
            print_parity(console, entry["format_parity"])


def print_parity(console, parity: dict) -> None:
    """Format parity as a table per label (and per group value) and its warnings."""
    from rich.table import Table

    from fdrbench.perturb.parity import describe_cell

    key = parity["group_key"]
    table = Table(title="format parity", title_justify="left", header_style="bold")
    for column in ("images", "n", "formats", "JPEG quality", "sizes", "EXIF"):
        table.add_column(column, justify="right" if column in ("n", "EXIF") else "left")
    rows = [(name, cell) for name, cell in parity["by_label"].items() if cell["n"]]
    rows += [(f"{key}={value} {name}", cell) for value, cells in parity["by_group"].items() for name, cell in cells.items()]
    for name, cell in rows:
        table.add_row(name, *describe_cell(cell))
    console.print(table)
    for warning in parity["warnings"]:
        console.print(f"  [yellow]warning[/yellow]: {warning} (a detector can learn the storage instead of the forgery)", highlight=False)
