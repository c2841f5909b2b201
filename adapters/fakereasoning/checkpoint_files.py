"""Finding, reading and writing checkpoint tensor files, safely.

Weights come as safetensors or as PyTorch ``.bin``/``.pth`` files. The latter are read with
``torch.load(weights_only=True)`` only, which refuses anything but tensors and plain containers, so a
hostile file cannot run code. A source is a local folder or file, or a Hugging Face Hub id that is
downloaded into the Hub cache.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from fdrbench.errors import FdrbenchError

HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")
WEIGHT_PATTERNS = ("*.json", "*.safetensors", "*.bin", "*.model", "*.txt")
FINGERPRINT_EDGE = 1 << 20


class WeightsError(FdrbenchError):
    """A checkpoint does not match the model: the message lists the keys that differ."""


@dataclass(frozen=True)
class Source:
    """Where weights were found: a local path, and for Hub ids the id and the resolved commit."""

    path: Path
    spec: str
    revision: str | None = None
    hub: bool = False

    def describe(self) -> dict:
        return {"source": self.spec, "path": str(self.path), "revision": self.revision, "hub": self.hub}


def resolve(spec: str, revision: str | None = None, what: str = "weights") -> Source:
    """A local path as given, or a Hub id downloaded (weights, configs and vocabulary files only)."""
    path = Path(spec).expanduser()
    if path.exists():
        return Source(path.resolve(), spec)
    if not HUB_ID.match(spec):
        raise FdrbenchError(f"{what}: {spec!r} is neither an existing path nor a Hugging Face Hub id (owner/name)")
    try:
        from huggingface_hub import snapshot_download
    except ImportError as exc:
        raise FdrbenchError(f"{what}: downloading {spec!r} needs huggingface_hub (pip install huggingface_hub)") from exc
    try:
        local = Path(snapshot_download(repo_id=spec, revision=revision, allow_patterns=list(WEIGHT_PATTERNS)))
    except Exception as exc:  # network, authentication or a wrong id: one clear message
        raise FdrbenchError(f"{what}: could not download {spec!r} from the Hugging Face Hub ({type(exc).__name__}: {exc})") from exc
    commit = local.name if re.fullmatch(r"[0-9a-f]{40}", local.name) else revision
    return Source(local, spec, commit, hub=True)


def weight_files(folder: Path) -> list[Path]:
    """The tensor files of a checkpoint folder, following a shard index when there is one."""
    if folder.is_file():
        return [folder]
    for index_name in ("model.safetensors.index.json", "pytorch_model.bin.index.json"):
        index = folder / index_name
        if index.is_file():
            try:
                weight_map = json.loads(index.read_text(encoding="utf-8"))["weight_map"]
            except (json.JSONDecodeError, KeyError, TypeError) as exc:
                raise WeightsError(f"{index}: not a shard index with a 'weight_map' ({exc})") from exc
            names = sorted(set(weight_map.values()))
            missing = [n for n in names if not (folder / n).is_file()]
            if missing:
                raise WeightsError(f"{index}: shard file(s) missing: {', '.join(missing)}")
            return [folder / n for n in names]
    for single in ("model.safetensors", "pytorch_model.bin"):
        if (folder / single).is_file():
            return [folder / single]
    found = sorted(folder.glob("*.safetensors")) or sorted(folder.glob("*.bin")) or sorted(folder.glob("*.pth"))
    if not found:
        raise WeightsError(f"{folder}: no weights (looked for model.safetensors[.index.json], pytorch_model.bin[.index.json], *.pth)")
    return found


def read_tensors(path: Path) -> dict:
    """All tensors of one file; ``{"model": {...}}`` wrappers (DINOv2 training files) are unwrapped."""
    import torch

    if path.suffix == ".safetensors":
        from safetensors.torch import load_file

        try:
            return load_file(str(path))
        except Exception as exc:
            raise WeightsError(f"{path}: not a readable safetensors file ({exc})") from exc
    try:
        try:
            data = torch.load(str(path), map_location="cpu", weights_only=True, mmap=True)
        except RuntimeError as exc:  # files in the legacy (pre-zip) format cannot be memory-mapped
            if "mmap" not in str(exc):
                raise
            data = torch.load(str(path), map_location="cpu", weights_only=True)
    except Exception as exc:
        raise WeightsError(f"{path}: not a plain tensor file loadable with weights_only=True ({type(exc).__name__}: {exc})") from exc
    if isinstance(data, dict) and "model" in data and isinstance(data["model"], dict):
        data = data["model"]
    if not isinstance(data, dict) or not all(isinstance(v, torch.Tensor) for v in data.values()):
        raise WeightsError(f"{path}: expected a mapping of names to tensors")
    return data


def iter_checkpoint(folder: Path) -> Iterator[tuple[Path, dict]]:
    """(file, tensors) for each file of a checkpoint, one file in memory at a time."""
    for path in weight_files(folder):
        yield path, read_tensors(path)


def save_tensors(state: dict, folder: Path, max_shard_bytes: int = 5 << 30, metadata: dict | None = None) -> list[Path]:
    """Write ``state`` as ``model.safetensors`` or as shards with a ``model.safetensors.index.json``."""
    from safetensors.torch import save_file

    folder.mkdir(parents=True, exist_ok=True)
    shards: list[dict] = [{}]
    size = 0
    for name in sorted(state):
        tensor = state[name].detach().contiguous().cpu()
        nbytes = tensor.numel() * tensor.element_size()
        if shards[-1] and size + nbytes > max_shard_bytes:
            shards.append({})
            size = 0
        shards[-1][name] = tensor
        size += nbytes
    meta = {"format": "pt", **(metadata or {})}
    if len(shards) == 1:
        path = folder / "model.safetensors"
        save_file(shards[0], str(path), metadata=meta)
        return [path]
    paths, weight_map = [], {}
    for number, shard in enumerate(shards, 1):
        path = folder / f"model-{number:05d}-of-{len(shards):05d}.safetensors"
        save_file(shard, str(path), metadata=meta)
        paths.append(path)
        weight_map.update({name: path.name for name in shard})
    total = sum(t.numel() * t.element_size() for t in state.values())
    index = {"metadata": {"total_size": total}, "weight_map": weight_map}
    (folder / "model.safetensors.index.json").write_text(json.dumps(index, indent=1, sort_keys=True), encoding="utf-8")
    return paths


def quick_fingerprint(paths: list[Path]) -> str:
    """A cheap identity of weight files: names, sizes and the first and last MiB of each.

    Hashing tens of GB on every run would cost minutes; re-trained weights differ in their last bytes.
    """
    digest = hashlib.sha256()
    for path in sorted(paths):
        size = path.stat().st_size
        digest.update(f"{path.name}:{size}:".encode())
        with open(path, "rb") as handle:
            digest.update(handle.read(FINGERPRINT_EDGE))
            if size > 2 * FINGERPRINT_EDGE:
                handle.seek(size - FINGERPRINT_EDGE)
                digest.update(handle.read(FINGERPRINT_EDGE))
            elif size > FINGERPRINT_EDGE:
                digest.update(handle.read())
    return digest.hexdigest()
