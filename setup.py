"""Maps the top-level ``adapters/``, ``tasks/`` and ``leaderboard/`` folders into the ``fdrbench`` package.

Metadata lives in pyproject.toml; this file only lists packages, found by walking the
folders, so a new sub-package never needs registering by hand.
"""

import os

from setuptools import find_packages, setup

ROOTS = {"fdrbench": "fdrbench", "fdrbench.adapters": "adapters", "fdrbench.tasks": "tasks", "fdrbench.leaderboard": "leaderboard"}
PRESENT = {name: folder for name, folder in ROOTS.items() if os.path.isfile(os.path.join(folder, "__init__.py"))}


def packages() -> list:
    found = []
    for name, folder in PRESENT.items():
        found.append(name)
        found.extend(f"{name}.{sub}" for sub in find_packages(where=folder))
    return found


setup(packages=packages(), package_dir=PRESENT)
