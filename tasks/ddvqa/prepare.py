"""``fdrbench data prepare ddvqa``: give every DD-VQA question its frame from the user's FF++ frames.

DD-VQA ships no images. Its keys name FF++ videos: ``<id>_<target>_<source>`` is the
manipulated video ``<target>_<source>`` of method ``<id>`` (0 Deepfakes, 1 Face2Face,
2 FaceShifter, 3 FaceSwap, 6 NeuralTextures) and ``5_<video>`` the original ``<video>``. The
frames folder of a video is found with a template, by default the layout FF++'s own frame
extraction writes::

    {sequences}/{method}/{compression}/images/{video}/0000.png ...

with ``sequences`` = ``manipulated_sequences`` or ``original_sequences``, ``method`` = the FF++
method folder (``youtube`` for originals), ``compression`` = ``c23`` by default; frames are
taken in numeric order of their file names. ``--arg template=T`` adapts it to another layout (e.g.
``{real_fake}/{method}/{compression}/frames/{video}`` for FakeClue-style trees, with
``real_fake`` = real or fake).

Which frame a question shows is not specified by the release. ``--arg frame_policy=consecutive``
(default) follows FakeVLM's description: the questions of a video take consecutive frames from
the first one, in question-id order; ``first`` gives every question the first frame;
``middle`` the middle frame. The chosen frame is copied (or hard-linked) to
``<data-dir>/frames/<key>/<qid>.<ext>`` and ``frames/index.json`` records where each came from.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

from fdrbench.errors import DataError, FdrbenchError
from fdrbench.pathsafe import check_name, inside, join_names
from fdrbench.progress import progress_bar
from fdrbench.tasks.common.loading import LoadReport
from fdrbench.tasks.ddvqa.loader import FRAME_INDEX, FRAME_SUFFIXES, SPLIT_FOLDERS, iter_annotations

DEFAULT_TEMPLATE = "{sequences}/{method}/{compression}/images/{video}"
FRAME_POLICIES = ("consecutive", "first", "middle")
#: the manipulation's folder name under FF++'s manipulated_sequences/
FFPP_FOLDERS = {
    "Deepfakes": "Deepfakes",
    "Face2Face": "Face2Face",
    "FaceShifter": "FaceShifter",
    "FaceSwap": "FaceSwap",
    "NeuralTextures": "NeuralTextures",
}


def template_fields(key: str, method: str, compression: str, source: object = None) -> dict[str, str]:
    """The names a frames-folder template may use, for one DD-VQA key (listed in ``source``)."""
    _, _, video = key.partition("_")
    check_name(video, "video name", path=source, record=key)
    if method == "Original":
        return {"sequences": "original_sequences", "method": "youtube", "real_fake": "real", "video": video, "compression": compression}
    return {
        "sequences": "manipulated_sequences",
        "method": FFPP_FOLDERS[method],
        "real_fake": "fake",
        "video": video,
        "compression": compression,
    }


def video_folder(frames_root: Path, template: str, key: str, method: str, compression: str, source: object = None) -> Path:
    fields = template_fields(key, method, compression, source)
    try:
        relative = template.format(**fields)
    except (KeyError, IndexError, ValueError) as exc:
        raise FdrbenchError(
            f"--arg template={template!r} is not valid ({exc}); it may use {{sequences}} {{method}} {{real_fake}} {{compression}} {{video}}"
        ) from exc
    return inside(frames_root, frames_root / relative, path=source, record=key, shown=relative)


def sorted_frames(folder: Path) -> list[Path]:
    """Image files of a video's frames folder, numeric names in numeric order, then the rest by name."""

    def order(path: Path) -> tuple:
        return (0, int(path.stem), "") if path.stem.isdigit() else (1, 0, path.stem)

    return sorted((p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in FRAME_SUFFIXES), key=order)


def pick_frame(frames: list[Path], policy: str, position: int) -> Path | None:
    """The frame for the ``position``-th question of a video, or None if there are too few frames."""
    if policy == "first":
        return frames[0]
    if policy == "middle":
        return frames[len(frames) // 2]
    return frames[position] if position < len(frames) else None


def place(source: Path, destination: Path, mode: str) -> None:
    """Copy (or hard-link) a frame to ``destination``, a path already checked to lie inside the data folder."""
    destination.parent.mkdir(parents=True, exist_ok=True)
    if destination.is_symlink() or destination.exists():
        destination.unlink()
    if mode == "hardlink":
        try:
            os.link(source, destination)
            return
        except OSError:
            pass  # another filesystem: fall back to a copy
    shutil.copy2(source, destination)


def previous_index(out: Path, settings: dict) -> dict[str, dict[str, str]]:
    """Frames placed by an earlier run with the same settings (another split), kept in the new index."""
    path = out / FRAME_INDEX
    try:
        old = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
    except (json.JSONDecodeError, OSError):
        return {}
    same = isinstance(old, dict) and all(old.get(k) == v for k, v in settings.items())
    return dict(old.get("frames") or {}) if same else {}


def prepare_ddvqa(
    data_dir: str | Path,
    frames_root: str | Path,
    splits: str | tuple[str, ...] | list[str] = tuple(SPLIT_FOLDERS),
    template: str = DEFAULT_TEMPLATE,
    compression: str = "c23",
    frame_policy: str = "consecutive",
    mode: str = "copy",
    skip_missing: bool = False,
    show_progress: bool = True,
) -> dict:
    """Copy one frame per question into ``<data_dir>/frames``; returns counts and what was skipped.

    The task's ``prepare`` hook: ``fdrbench data prepare ddvqa --arg data_dir=D --arg frames_root=FFPP``
    (``splits``, ``template``, ``compression``, ``frame_policy``, ``mode`` and ``skip_missing`` as
    further ``--arg`` settings).
    """
    data_dir, frames_root = Path(data_dir), Path(frames_root)
    splits = (splits,) if isinstance(splits, str) else tuple(splits)
    if frame_policy not in FRAME_POLICIES:
        raise FdrbenchError(f"--arg frame_policy must be one of {', '.join(FRAME_POLICIES)}, got {frame_policy!r}")
    if mode not in ("copy", "hardlink"):
        raise FdrbenchError(f"--arg mode must be copy or hardlink, got {mode!r}")
    if not frames_root.is_dir():
        raise DataError("FF++ frames folder not found", path=frames_root)
    report = LoadReport()
    entries = [entry for split in splits for entry in iter_annotations(data_dir, split, report)]
    out = data_dir / "frames"
    settings = {"policy": frame_policy, "template": template, "compression": compression}
    index: dict[str, dict[str, str]] = previous_index(out, settings)
    placed = 0
    with progress_bar(len(entries), "placing DD-VQA frames", unit="key", enabled=show_progress) as bar:
        for entry in entries:
            bar.advance()
            folder = video_folder(frames_root, template, entry.key, entry.method, compression, entry.path)
            frames = sorted_frames(folder) if folder.is_dir() else []
            problem = None
            if not frames:
                problem = f"no frames in {folder} (expected the extracted frames of this FF++ video; see --arg template)"
            elif frame_policy == "consecutive" and len(frames) < len(entry.qa):
                problem = f"{folder} has {len(frames)} frames but the key has {len(entry.qa)} questions (policy consecutive)"
            if problem is not None:
                if skip_missing:
                    report.add("keys_without_frames", f"{entry.key}: {problem}")
                    continue
                raise DataError(problem, path=entry.path, record=entry.key, hint="--arg skip_missing=true skips such keys and counts them")
            for position, qid in enumerate(entry.qa):
                record = f"{entry.key}/{qid}"
                frame = inside(frames_root, pick_frame(frames, frame_policy, position), path=entry.path, record=record)
                destination = join_names(out, entry.key, f"{qid}{frame.suffix.lower()}", what="frame name", path=entry.path, record=record)
                place(frame, destination, mode)
                index.setdefault(entry.key, {})[qid] = frame.relative_to(frames_root.resolve()).as_posix()
                placed += 1
    manifest = {**settings, "mode": mode, "frames": index}
    out.mkdir(parents=True, exist_ok=True)
    (out / FRAME_INDEX).write_text(json.dumps(manifest, indent=1, sort_keys=True), encoding="utf-8")
    return {"keys": len(index), "frames_placed": placed, "skipped": report.to_dict(), "out": str(out), "policy": frame_policy}
