"""The spectral CPU baseline: features, fitting, JSON weights, explanations, accuracy on the demo."""

from __future__ import annotations

import json

import numpy as np
import pytest

from fdrbench.adapters.baselines.spectral import SpectralDetector, SpectralModel, explain
from fdrbench.adapters.baselines.spectral_features import FeatureConfig, center_square, extract, feature_names
from fdrbench.detector import RunContext
from fdrbench.errors import FdrbenchError
from fdrbench.tasks.demo import DemoTask


def test_feature_vector_shape_and_determinism():
    rng = np.random.default_rng(0)
    img = (rng.random((150, 170, 3)) * 255).astype(np.uint8)
    cfg = FeatureConfig()
    f1 = extract(img, cfg)
    assert f1.shape == (len(feature_names(cfg)),)
    assert np.all(np.isfinite(f1))
    assert np.array_equal(f1, extract(img, cfg))
    small = (rng.random((40, 60, 3)) * 255).astype(np.uint8)
    assert extract(small, cfg).shape == f1.shape  # padded, never resampled
    assert center_square(np.zeros((10, 300)), 128).shape == (128, 128)


def test_explanation_names_the_strongest_evidence():
    contrib = {"spectrum": 0.2, "peaks": 2.5, "residual": -0.4, "regions": 0.1}
    assert explain(0.9, contrib) == "This image is fake (p_fake=0.90): its spectrum has periodic peaks, a trace of learned upsampling."
    assert explain(0.1, contrib).startswith("This image is real (p_fake=0.10): its high-pass residual shows natural camera sensor noise")


def test_fitted_baseline_beats_chance_on_demo_test(demo_root, spectral_weights):
    data = json.loads(spectral_weights.read_text())
    assert data["format"] == "fdrbench-spectral-v1"
    assert data["meta"]["trained_on"]["split"] == "train"
    det = SpectralDetector()
    task = DemoTask()
    det.setup(RunContext(task=task))
    samples = task.load(demo_root, "test")
    preds = det.predict(samples)
    acc = np.mean([p.label == s.label for p, s in zip(preds, samples, strict=True)])
    assert acc > 0.75
    assert all(0.0 <= p.p_fake <= 1.0 for p in preds)
    assert all(p.explanation.startswith("This image is ") for p in preds)
    assert det.describe()["weights_sha256"] == det.identity(task)["weights_sha256"]


def test_weights_round_trip_and_bad_files(tmp_path, spectral_weights):
    model = SpectralModel.from_file(spectral_weights)
    copy = tmp_path / "copy.json"
    copy.write_text(json.dumps(model.to_dict()))
    again = SpectralModel.from_file(copy)
    assert np.array_equal(again.coef, model.coef) and again.intercept == model.intercept
    with pytest.raises(FdrbenchError, match="no fitted spectral weights"):
        SpectralModel.from_file(tmp_path / "missing.json")
    (tmp_path / "bad.json").write_text("{nope")
    with pytest.raises(FdrbenchError, match="not valid JSON"):
        SpectralModel.from_file(tmp_path / "bad.json")
    broken = model.to_dict()
    broken["coef"] = broken["coef"][:-1]
    (tmp_path / "short.json").write_text(json.dumps(broken))
    with pytest.raises(FdrbenchError, match="'coef' must hold"):
        SpectralModel.from_file(tmp_path / "short.json")
    (tmp_path / "other.json").write_text(json.dumps({"format": "pickle"}))
    with pytest.raises(FdrbenchError, match="not a spectral weights file"):
        SpectralModel.from_file(tmp_path / "other.json")
