"""Provenance of a run: building its manifest (what ran, on what data, with which code, settings
and libraries). The manifest's type is :class:`fdrbench.results.Manifest`; the data fingerprint
it records is computed by :mod:`fdrbench.fingerprints`.
"""

from __future__ import annotations

import os
import platform
import subprocess
import sys
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Any

from fdrbench import __version__
from fdrbench.errors import FdrbenchError
from fdrbench.hashing import config_hash, sha256_text
from fdrbench.redact import scrub_settings as scrub
from fdrbench.results import SCHEMA_VERSION, AdapterInfo, CodeInfo, Manifest, PerturbationInfo, RunSettings, TaskInfo

LIBRARIES = (
    "fdrbench",
    "numpy",
    "scikit-learn",
    "scipy",
    "pillow",
    "scikit-image",
    "torch",
    "transformers",
    "accelerate",
    "peft",
    "datasets",
    "nltk",
    "rouge-score",
    "sentence-transformers",
    "bert-score",
    "openai",
)


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def library_versions() -> dict[str, str]:
    versions = {}
    for name in LIBRARIES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return versions


def git_state(path: Path | None = None) -> dict[str, Any]:
    """Commit and dirtiness of the fdrbench source tree, when it is a git checkout."""
    where = path or Path(__file__).resolve().parent.parent
    try:
        commit = subprocess.run(
            ["git", "-C", str(where), "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(where), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return {"commit": None, "dirty": None}
    return {"commit": commit or None, "dirty": bool(dirty)}


def device_info(device: str) -> dict[str, Any]:
    info: dict[str, Any] = {"device": device, "cpu_count": os.cpu_count(), "machine": platform.machine()}
    torch = sys.modules.get("torch")
    if torch is not None and device.startswith("cuda") and torch.cuda.is_available():
        index = torch.device(device).index or 0
        info["gpu"] = torch.cuda.get_device_name(index)
        info["cuda"] = torch.version.cuda
    return info


def environment_info(device: str) -> dict[str, Any]:
    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "libraries": library_versions(),
        "hardware": device_info(device),
    }


def adapter_account(detector: Any, task: Any) -> tuple[dict, str | None, str | None]:
    """(``describe()`` scrubbed, prompt, prompt sha256): the adapter's own account of itself.

    A ``prompt`` key in ``describe()`` (even None: the detector reads no prompt) wins over the
    task's prompt.
    """
    describe = scrub(detector.describe() or {})
    if not isinstance(describe, dict):
        raise FdrbenchError(f"adapter {detector.name!r}: describe() must return a dict, got {type(describe).__name__}")
    prompt = describe.get("prompt", task.prompt)
    return describe, prompt, (sha256_text(prompt) if prompt else None)


def new_manifest(
    *,
    task: Any,
    task_target: str,
    registered: bool,
    detector: Any,
    model: str,
    adapter: tuple[str, str, dict],
    run_id: str,
    split: str,
    limit: int | None,
    n_samples: int,
    fingerprint: str,
    config: dict,
    data_dir: Path | None,
    settings: dict,
    perturbation: dict | None = None,
) -> Manifest:
    """The manifest of a new run (status ``running``): task, data, adapter, settings, code, environment.

    ``adapter`` is (name given, import target, scrubbed ``--model-arg`` values); ``settings``
    the run's seed, batch size, device, world size, failure budget, bootstrap size and protocols;
    ``perturbation`` a perturbed run's section (:func:`fdrbench.resolve.perturbed`).
    """
    created = now_iso()
    describe, prompt, prompt_sha = adapter_account(detector, task)
    name, target, args = adapter
    task_info = TaskInfo(
        **{k: v for k, v in task.info().items() if k in TaskInfo.__struct_fields__},
        target=task_target,
        registered=registered,
        split=split,
        limit=limit,
        n_samples=n_samples,
        data_dir=str(data_dir) if data_dir else None,
    )
    return Manifest(
        schema_version=SCHEMA_VERSION,
        task=task.name,
        model=model,
        run_id=run_id,
        created=created,
        updated=created,
        status="running",
        task_info=task_info,
        data_fingerprint=fingerprint,
        adapter=AdapterInfo(name=name, target=target, args=args, describe=describe),
        config=config,
        config_hash=config_hash(config),
        settings=RunSettings(**settings),
        fdrbench=CodeInfo(version=__version__, **git_state()),
        environment=environment_info(settings["device"]),
        prompt=prompt,
        prompt_sha256=prompt_sha,
        perturbation=PerturbationInfo(**perturbation) if perturbation else None,
    )
