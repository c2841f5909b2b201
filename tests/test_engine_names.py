"""No model or dataset names in the engine: ``fdrbench/`` (``backends/`` included) names none of them.

What a benchmark or a detector is belongs beside it in ``tasks/`` or ``adapters/``; the engine
finds them through the registry. The names checked are every registered adapter and task name
(read from the entry points, so a new one is checked without editing this test) and the
datasets and papers those names come from. A name counts as a whole word (``_`` joins words, so
the preset ``fakevlm_t7`` is one word of its own), in code, comments and docstrings alike.
"""

from __future__ import annotations

import re

from fdrbench.registry import ADAPTERS, TASKS

from .conftest import REPO

DATASETS_AND_PAPERS = (
    "mmfr",
    "fakeclue",
    "loki",
    "ddvqa",
    "dd-vqa",
    "sofake",
    "so-fake",
    "so-fake-ood",
    "sidset",
    "sid-set",
    "sid_set",
    "fakereasoning",
    "fakevlm",
    "sida",
    "llava",
    "lisa",
    "faceforensics",
    "ff++",
    "diffusiondb",
    "laion",
    "deepfakejudge",
    "dfj",
    "fakebench",
    "legion",
    "synthscars",
    "openfake",
    "communityforensics",
    "commfor",
)
#: names allowed where they are, and why
ALLOWED = {
    "demo": "also the name of the `fdrbench demo` command, which starts the embedded benchmark",
    # the tasks over one's own data are named by the generic thing they read, which the engine names too
    "folder": "the data and run folders the engine reads and writes",
    "manifest": "the run's manifest.json, its provenance",
    "hf": "Hugging Face, whose generation and checkpoints the backends use",
}
#: engine files allowed to name papers, and why
EXEMPT_FILES = {
    "fdrbench/perturb/presets.py": "the robustness presets reproduce named papers' perturbation tables and cite them",
}


def forbidden() -> list[str]:
    names = {n.lower() for n in (*ADAPTERS.names(), *TASKS.names(), *DATASETS_AND_PAPERS)}
    return sorted(names - set(ALLOWED))


def test_the_engine_names_no_model_or_dataset():
    words = forbidden()
    assert {"spectral", "mmfr_eval", "sofake_ood", "loki", "sida"} <= set(words)
    pattern = re.compile(r"(?<![\w+-])(" + "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True)) + r")(?![\w+])", re.I)
    found = []
    for path in sorted((REPO / "fdrbench").rglob("*.py")):
        rel = path.relative_to(REPO).as_posix()
        if rel in EXEMPT_FILES:
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            for match in pattern.finditer(line):
                found.append(f"{rel}:{number}: {match.group(0)!r} in {line.strip()[:100]}")
    assert not found, "the engine names a model or dataset:\n" + "\n".join(found)


def test_the_check_finds_a_name():
    words = forbidden()
    pattern = re.compile(r"(?<![\w+-])(" + "|".join(re.escape(w) for w in words) + r")(?![\w+])", re.I)
    assert pattern.search("scored as SIDA's evaluation does") and pattern.search("the ff++ frames")
    assert not pattern.search("the fakevlm_t7/jpeg70 preset member") and not pattern.search("an unrelated sidebar")
