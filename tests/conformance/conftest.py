"""The conformance suite runs from ``make conformance``, which builds what it compares against.

Without ``FDRBENCH_CONFORMANCE`` (the build folder holding ``fixtures/`` and ``reference/``) the
files here are not collected, so ``make test`` stays independent of the three old environments.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest

ROOT = os.environ.get("FDRBENCH_CONFORMANCE")
if not ROOT:
    collect_ignore_glob = ["test_*.py"]


@pytest.fixture(scope="session")
def build() -> Path:
    return Path(ROOT).resolve()


@pytest.fixture(scope="session")
def fixtures(build) -> Path:
    return build / "fixtures"


@pytest.fixture(scope="session")
def manifest(fixtures) -> dict:
    return json.loads((fixtures / "fixtures.json").read_text(encoding="utf-8"))


def reference(build: Path, name: str) -> dict[str, np.ndarray]:
    path = build / "reference" / f"{name}.npz"
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing: run `make conformance`, which writes it with the authors' transformers")
    with np.load(path) as data:
        return {key: data[key] for key in data.files}


@pytest.fixture(scope="session")
def ref_fakevlm(build):
    return reference(build, "fakevlm")


@pytest.fixture(scope="session")
def ref_fakereasoning(build):
    return reference(build, "fakereasoning")


@pytest.fixture(scope="session")
def ref_sida(build):
    return reference(build, "sida")
