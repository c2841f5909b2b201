"""``fdrbench results init-repo``: the files of a results repository whose pull requests CI validates.

A results repository holds ``results/`` (run folders and ``index.json``) and a workflow that
runs ``fdrbench validate results --portable`` on every pull request and refuses changes to runs
already published, as MTEB's results repository does. The workflow pins the fdrbench release
that wrote it, so the checks do not change under the contributors.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from fdrbench import __version__
from fdrbench.errors import FdrbenchError

WORKFLOW = Path(".github/workflows/validate.yml")
FILES = {WORKFLOW: "validate.yml", Path("README.md"): "README.md", Path(".gitattributes"): None}
#: prediction files are large and machine-written: no line diffs in reviews
GITATTRIBUTES = "results/**/predictions.jsonl -diff linguist-generated=true\nresults/index.json linguist-generated=true\n"


@dataclass
class Written:
    files: list[Path]
    skipped: list[Path]


def requirement(version: str = __version__) -> str:
    """What the workflow installs: this release of fdrbench with the explanation metrics a re-score needs."""
    return f"fdrbench[text]=={version}"


def render(template: str | None, name: str, version: str) -> str:
    if template is None:
        return GITATTRIBUTES
    text = resources.files("fdrbench.templates.results_repo").joinpath(template).read_text(encoding="utf-8")
    return text.replace("@FDRBENCH_REQUIREMENT@", requirement(version)).replace("@FDRBENCH_NAME@", name)


def init_repo(folder: Path, name: str | None = None, version: str = __version__, force: bool = False) -> Written:
    """Write the workflow, a README and ``.gitattributes`` into ``folder``; existing files are kept unless ``force``."""
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise FdrbenchError(f"{folder} is not a folder")
    title = name or folder.resolve().name
    written, skipped = [], []
    for relative, template in FILES.items():
        path = folder / relative
        if path.exists() and not force:
            skipped.append(path)
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(render(template, title, version), encoding="utf-8")
        written.append(path)
    (folder / "results").mkdir(exist_ok=True)
    return Written(written, skipped)
