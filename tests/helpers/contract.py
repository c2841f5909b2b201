"""Hand-made run files that follow the results contract, for tests that write runs without running a model."""

from __future__ import annotations

from fdrbench.hashing import config_hash


def manifest_for(task: str, model: str, run_id: str, fingerprint: str = "0" * 64, n_samples: int = 1, version: str = "1") -> dict:
    """A ``manifest.json`` object with every field the contract requires."""
    config = {"task": task, "task_version": version, "split": "test", "limit": None, "seed": 0, "data_fingerprint": fingerprint}
    return {
        "schema_version": 1,
        "task": task,
        "model": model,
        "run_id": run_id,
        "created": "2026-01-01T00:00:00+00:00",
        "status": "complete",
        "task_info": {"name": task, "version": version, "split": "test", "n_samples": n_samples, "options": {}, "limit": None},
        "data_fingerprint": fingerprint,
        "adapter": {"name": model, "target": f"tests:{model}", "args": {}, "describe": {}},
        "config": config,
        "config_hash": config_hash(config),
        "settings": {"seed": 0, "n_boot": 0, "protocols": ["strict"]},
        "fdrbench": {"version": "0.1.0"},
        "environment": {},
        "prompt": None,
        "prompt_sha256": None,
    }
