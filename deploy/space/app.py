"""The Hugging Face Space's entry point: the fdrbench leaderboard over a pinned results snapshot.

The results come from ``FDRBENCH_RESULTS`` when it names a folder (a copy in the Space, or a
test), else from the dataset ``FDRBENCH_RESULTS_DATASET`` at the commit
``FDRBENCH_RESULTS_REVISION``, downloaded once (manifests, scores, predictions and the index;
no images). A branch or tag is refused: a snapshot is pinned by its commit hash.
"""

from __future__ import annotations

import os
import re
import runpy

from fdrbench.leaderboard.launch import APP, RESULTS_ENV

DATASET_ENV = "FDRBENCH_RESULTS_DATASET"
REVISION_ENV = "FDRBENCH_RESULTS_REVISION"
RUN_FILES = ["index.json", "**/manifest.json", "**/scores.json", "**/predictions*.jsonl"]


def results_folder() -> str:
    """The folder the leaderboard reads: ``FDRBENCH_RESULTS``, or the pinned dataset snapshot."""
    local = os.environ.get(RESULTS_ENV)
    if local:
        return local
    dataset, revision = os.environ.get(DATASET_ENV, ""), os.environ.get(REVISION_ENV, "")
    if not dataset or not re.fullmatch(r"[0-9a-f]{40}", revision):
        raise SystemExit(f"set {DATASET_ENV} to the results dataset and {REVISION_ENV} to a 40-character commit hash of it")
    from huggingface_hub import snapshot_download

    return snapshot_download(repo_id=dataset, repo_type="dataset", revision=revision, allow_patterns=RUN_FILES)


os.environ[RESULTS_ENV] = results_folder()
runpy.run_path(str(APP), run_name="__main__")
