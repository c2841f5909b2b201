"""``spectral``: the CPU baseline - hand-made frequency features and a logistic regression.

``fdrbench train spectral --task demo`` fits it on a task's training split and writes the
parameters as JSON (never pickle) to ``<cache>/weights/spectral/<task>.json`` or ``--out``.
``fdrbench run --model spectral`` loads them (``--model-arg weights=PATH`` to choose a file) and
returns ``p_fake``, a verdict and a one-sentence explanation naming the evidence that weighed
most for that verdict.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import numpy as np

from fdrbench.adapters.baselines.spectral_features import GROUP_EVIDENCE, FeatureConfig, extract, feature_groups, feature_names
from fdrbench.api.detector import Detector, RunContext, TrainContext
from fdrbench.api.task import Task
from fdrbench.errors import FdrbenchError
from fdrbench.paths import weights_root
from fdrbench.types import Prediction, Sample

FORMAT = "fdrbench-spectral-v1"


def default_weights(task: str) -> Path:
    return weights_root() / "spectral" / f"{task}.json"


def sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-z))


class SpectralModel:
    """Standardisation + logistic regression, held as plain arrays and saved as JSON."""

    def __init__(
        self, config: FeatureConfig, mean: np.ndarray, scale: np.ndarray, coef: np.ndarray, intercept: float, meta: dict | None = None
    ):
        self.config = config
        self.mean = mean
        self.scale = scale
        self.coef = coef
        self.intercept = float(intercept)
        self.meta = meta or {}
        self.groups = np.asarray(feature_groups(config))

    def logits(self, features: np.ndarray) -> np.ndarray:
        return ((features - self.mean) / self.scale) @ self.coef + self.intercept

    def contributions(self, features: np.ndarray) -> dict[str, float]:
        """Each evidence group's share of the logit (positive pushes towards fake)."""
        parts = ((features - self.mean) / self.scale) * self.coef
        return {g: float(parts[self.groups == g].sum()) for g in GROUP_EVIDENCE}

    def to_dict(self) -> dict:
        return {
            "format": FORMAT,
            "feature_config": self.config.to_dict(),
            "feature_names": feature_names(self.config),
            "mean": self.mean.tolist(),
            "scale": self.scale.tolist(),
            "coef": self.coef.tolist(),
            "intercept": self.intercept,
            "meta": self.meta,
        }

    @classmethod
    def from_file(cls, path: Path) -> SpectralModel:
        if not path.is_file():
            raise FdrbenchError(
                f"no fitted spectral weights at {path}; fit them with `fdrbench train spectral --task <task>` "
                f"or pass --model-arg weights=PATH"
            )
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise FdrbenchError(f"{path}: not valid JSON ({exc})") from exc
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise FdrbenchError(f'{path}: not a spectral weights file (expected "format": "{FORMAT}")')
        try:
            config = FeatureConfig(**data["feature_config"])
            arrays = {k: np.asarray(data[k], dtype=np.float64) for k in ("mean", "scale", "coef")}
            intercept = float(data["intercept"])
        except (KeyError, TypeError, ValueError) as exc:
            raise FdrbenchError(f"{path}: malformed spectral weights ({exc})") from exc
        n = len(feature_names(config))
        for key, arr in arrays.items():
            if arr.shape != (n,) or not np.all(np.isfinite(arr)):
                raise FdrbenchError(f"{path}: '{key}' must hold {n} finite numbers, got shape {arr.shape}")
        if data.get("feature_names") != feature_names(config):
            raise FdrbenchError(f"{path}: feature names differ from this version's; re-fit the weights")
        return cls(config, arrays["mean"], arrays["scale"], arrays["coef"], intercept, data.get("meta"))


def explain(p_fake: float, contributions: dict[str, float]) -> str:
    """One sentence: the verdict, its probability, and the evidence group that pushed it most."""
    fake = p_fake >= 0.5
    pick = max(contributions, key=lambda g: contributions[g] if fake else -contributions[g])
    evidence = GROUP_EVIDENCE[pick][0 if fake else 1]
    return f"This image is {'fake' if fake else 'real'} (p_fake={p_fake:.2f}): {evidence}."


class SpectralDetector(Detector):
    """Logistic regression over radial spectrum, spectral-peak, residual and block-noise features."""

    name = "spectral"
    uses_device = False

    def __init__(self, weights: str | None = None):
        self.weights = weights
        self.model: SpectralModel | None = None
        self.weights_path: Path | None = Path(weights).expanduser() if weights else None

    def setup(self, ctx: RunContext) -> None:
        super().setup(ctx)
        self.weights_path = self.weights_path or default_weights(ctx.task.name)
        self.model = SpectralModel.from_file(self.weights_path)

    def identity(self, task: Task) -> dict[str, Any]:
        """The weights file's hash: re-fitted weights start a new run."""
        path = self.weights_path or default_weights(task.name)
        return {"weights_sha256": _sha256(path) if path.is_file() else None}

    def predict(self, batch: list[Sample]) -> list[Prediction]:
        if self.model is None:
            raise FdrbenchError("SpectralDetector.setup() must run before predict()")
        feats = np.stack([extract(s.load_image(), self.model.config) for s in batch])
        probs = sigmoid(self.model.logits(feats))
        out = []
        for sample, f, p in zip(batch, feats, probs, strict=True):
            p = float(p)
            text = explain(p, self.model.contributions(f))
            out.append(Prediction(sample_id=sample.id, label=int(p >= 0.5), p_fake=p, explanation=text, raw_output=text))
        return out

    def describe(self) -> dict:
        path = self.weights_path
        return {
            "name": self.name,
            "weights": str(path) if path else None,
            "weights_sha256": _sha256(path) if path and path.is_file() else None,
            "feature_config": self.model.config.to_dict() if self.model else None,
            "trained_on": (self.model.meta or {}).get("trained_on") if self.model else None,
            "prompt": None,
        }

    @classmethod
    def train(cls, ctx: TrainContext, C: float = 1.0, size: int = 128) -> dict:
        """Fit on ``ctx.split`` of ``ctx.task``; writes JSON weights to ``ctx.out`` (a file path)."""
        from sklearn.linear_model import LogisticRegression

        from fdrbench.fingerprints import fingerprint_samples
        from fdrbench.progress import progress_bar

        config = FeatureConfig(size=int(size))
        samples = ctx.task.load(ctx.data_dir, ctx.split, ctx.limit, ctx.seed)
        labels = np.array([s.label for s in samples])
        if len(set(labels.tolist())) < 2:
            raise FdrbenchError(f"split {ctx.split!r} of {ctx.task.name!r} needs both real and fake images to fit the baseline")
        feats = []
        with progress_bar(len(samples), "spectral features", enabled=ctx.show_progress) as bar:
            for sample in samples:
                feats.append(extract(sample.load_image(), config))
                sample.release_image()
                bar.advance()
        x = np.stack(feats)
        mean = x.mean(axis=0)
        scale = x.std(axis=0)
        scale[scale < 1e-12] = 1.0
        clf = LogisticRegression(C=float(C), max_iter=2000, random_state=ctx.seed)
        clf.fit((x - mean) / scale, labels)
        train_acc = float(clf.score((x - mean) / scale, labels))
        meta = {
            "trained_on": {
                "task": ctx.task.name,
                "split": ctx.split,
                "n": len(samples),
                "data_fingerprint": fingerprint_samples(samples),
                "C": float(C),
                "train_accuracy": train_acc,
            }
        }
        model = SpectralModel(config, mean, scale, clf.coef_[0].astype(np.float64), float(clf.intercept_[0]), meta)
        out = ctx.out
        out.parent.mkdir(parents=True, exist_ok=True)
        from fdrbench.store import write_json_atomic

        write_json_atomic(out, model.to_dict())
        return {"weights": str(out), "n": len(samples), "train_accuracy": train_acc}

    @classmethod
    def default_train_out(cls, task: str) -> Path:
        return default_weights(task)


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()
