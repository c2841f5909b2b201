"""The README's and the docs' promises: their commands exist, the runnable ones run, their links resolve.

The rules a page follows are in docs/writing-docs.md and tests/helpers/doc_blocks.py. Every
``fdrbench`` command in a ``bash``/``console`` block must name a real subcommand and real options;
every ``make`` target must be in the Makefile; blocks without a ``syntax-only`` marker run here,
offline, on the demo data, in one sandbox folder per page.
"""

from __future__ import annotations

import functools
import json
import os
import re
import shutil
import subprocess
import sys
import unicodedata
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from fdrbench.cli import app

from .conftest import REPO
from .helpers.doc_blocks import COMMAND_LANGS, PLACEHOLDER, Block, Command, blocks, commands, headings, links

PAGES = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
#: settings the sandbox adds to a command that does not give them, so each runs in seconds
FAST_OPTIONS = {"--n-boot": "20"}
QUIET_FLAG = "--no-progress"


def _page_id(page: Path) -> str:
    return page.relative_to(REPO).as_posix() if page.is_relative_to(REPO) else page.name


@functools.cache
def _cli() -> Any:
    """The click command tree behind the typer app (typer ships its own click: duck-typed here)."""
    return typer.main.get_command(app)


def _resolve(argv: list[str]) -> tuple[Any | None, list[str], str]:
    """The click command an argv names, the words after it, and the subcommand path (or an error)."""
    command = _cli()
    path: list[str] = []
    words = list(argv)
    while hasattr(command, "commands"):
        name = words[0].strip("[]") if words else ""
        if name not in command.commands and getattr(command, "invoke_without_command", False):
            break  # a group that runs on its own (``fdrbench leaderboard --results R``): its options follow
        if name not in command.commands:
            return None, words, f"`fdrbench {' '.join(path)}` has no subcommand {name!r}"
        command = command.commands[name]
        path.append(name)
        words.pop(0)
    return command, words, " ".join(path)


def _options(command: Any) -> set[str]:
    names = {"-h", "--help"}
    for param in command.params:
        names.update(o for o in (*param.opts, *param.secondary_opts) if o.startswith("-"))
    return names


def syntax_problems(cmd: Command) -> list[str]:
    """What is wrong with one command line of a page: unknown subcommand, option or make target."""
    where = f"{cmd.block.where}: `{cmd.text}`"
    if any(w in (";", "&&", "||", "|") or w.endswith(";") for w in cmd.words):
        return [f"{where}: one command per line, please"]
    if cmd.program == "make":
        makefile = (REPO / "Makefile").read_text()
        return [f"{where}: no make target {t!r}" for t in cmd.argv if not re.search(rf"^{re.escape(t)}:", makefile, re.M)]
    if cmd.program != "fdrbench":
        return []
    command, rest, path = _resolve(cmd.argv)
    if command is None:
        return [f"{where}: {path}"]
    known = _options(command)
    unknown = [w for w in (w.strip("[]").split("=", 1)[0] for w in rest) if w.startswith("-") and w not in known]
    return [f"{where}: `fdrbench {path}` has no option {w}" for w in unknown]


def _all_blocks() -> list[Block]:
    return [block for page in PAGES for block in blocks(page)]


def _command_blocks() -> list[Block]:
    return [b for b in _all_blocks() if b.lang in COMMAND_LANGS]


def test_every_command_in_the_docs_exists():
    problems = [p for block in _command_blocks() for cmd in commands(block) for p in syntax_problems(cmd)]
    assert not problems, "\n".join(problems)
    checked = [cmd for block in _command_blocks() for cmd in commands(block) if cmd.program == "fdrbench"]
    assert len(checked) > 60


def test_the_syntax_check_catches_mistakes(tmp_path):
    page = tmp_path / "page.md"
    page.write_text(
        "```bash\n"
        "fdrbench run --model spectral --task demo --limt 5\n"
        "fdrbench data chek demo\n"
        "torchrun --nproc_per_node=2 -m fdrbench score RUN --no-such-flag\n"
        "fdrbench show RUN; fdrbench score RUN\n"
        "make no-such-target\n"
        "fdrbench data check demo [--no-decode] [--split S]\n"
        "```\n"
    )
    problems = [p for block in blocks(page) for cmd in commands(block) for p in syntax_problems(cmd)]
    assert [p.split(": ", 1)[1].split("`: ", 1)[1] for p in problems] == [
        "`fdrbench run` has no option --limt",
        "`fdrbench data` has no subcommand 'chek'",
        "`fdrbench score` has no option --no-such-flag",
        "one command per line, please",
        "no make target 'no-such-target'",
    ]


def test_runnable_blocks_hold_only_fdrbench_commands():
    bad = [
        f"{b.where}: `{c.text}` (mark the block `<!-- docs: syntax-only REASON -->` or drop the line)"
        for b in _command_blocks()
        if b.runnable
        for c in commands(b)
        if c.program != "fdrbench" or c.words[0] != "fdrbench"
    ]
    assert not bad, "\n".join(bad)


def test_markers_say_why():
    bad = [b.where for b in _all_blocks() if b.marker and not b.marker_arg]
    assert not bad, f"a docs marker without its reason or file name: {bad}"


# ----------------------------------------------------------------------------- running the blocks


def _newest(sandbox: Path, word: str) -> str:
    """A word with ``<name>`` placeholders -> the newest matching path in the sandbox."""
    matches = sorted(sandbox.glob(PLACEHOLDER.sub("*", word)), key=lambda p: p.stat().st_mtime)
    assert matches, f"nothing in the sandbox matches {word!r}"
    return str(matches[-1].relative_to(sandbox))


def sandbox_argv(cmd: Command, sandbox: Path) -> list[str]:
    """The documented words, with placeholders resolved, file targets made absolute and fast settings added."""
    words = []
    for word in cmd.argv:
        if PLACEHOLDER.search(word):
            word = _newest(sandbox, word)
        target = re.fullmatch(r"(?P<file>[\w./-]+\.py):(?P<attr>[\w.]+)", word)
        if target and (sandbox / target["file"]).is_file():
            word = f"{sandbox / target['file']}:{target['attr']}"
        words.append(word)
    command, _, _ = _resolve(cmd.argv)
    known = _options(command) if command else set()
    words += [x for opt, value in FAST_OPTIONS.items() if opt in known and opt not in words for x in (opt, value)]
    if QUIET_FLAG in known and not {QUIET_FLAG, "--progress"} & set(words):
        words.append(QUIET_FLAG)
    return words


def run_page(page: Path, sandbox: Path) -> int:
    """Run the page's runnable blocks in order in ``sandbox``; return how many commands and snippets ran."""
    shutil.copytree(REPO / "results", sandbox / "results")
    ran = 0
    for block in blocks(page):
        if block.file_name:
            target = (sandbox / block.file_name).resolve()
            assert target.is_relative_to(sandbox), block.where
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(block.text, encoding="utf-8")
        elif not block.runnable:
            if block.lang == "python":
                compile(block.text, block.where, "exec")
        elif block.lang == "python":
            exec(compile(block.text, block.where, "exec"), {"__name__": "__docs__"})
            ran += 1
        elif block.lang in COMMAND_LANGS:
            for cmd in commands(block):
                argv = sandbox_argv(cmd, sandbox)
                result = CliRunner().invoke(app, argv)
                assert result.exit_code == 0, (
                    f"{block.where}: `{cmd.text}` -> exit {result.exit_code}\n{result.output}\n{result.exception!r}"
                )
                ran += 1
    return ran


def _runnable_pages() -> list[Path]:
    return [p for p in PAGES if any(b.runnable and b.lang in (*COMMAND_LANGS, "python") for b in blocks(p))]


@pytest.mark.parametrize("page", _runnable_pages(), ids=_page_id)
def test_runnable_blocks_run(page, spectral_weights, tmp_path, monkeypatch):
    sandbox = (tmp_path / "sandbox").resolve()
    sandbox.mkdir()
    monkeypatch.chdir(sandbox)
    assert run_page(page, sandbox) > 0


def test_readme_adapter_records_its_settings(spectral_weights, tmp_path, monkeypatch):
    """The README's adapter file is the one its commands run, with the documented --model-arg."""
    readme = REPO / "README.md"
    (adapter,) = [b for b in blocks(readme) if b.file_name == "my_detector.py"]
    run_line = next(c for b in blocks(readme) if b.runnable and b.lang in COMMAND_LANGS for c in commands(b) if "my_detector.py" in c.text)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "my_detector.py").write_text(adapter.text)
    shutil.copytree(REPO / "results", tmp_path / "results")
    result = CliRunner().invoke(app, [*sandbox_argv(run_line, tmp_path), "--limit", "20", "--out", "out"])
    assert result.exit_code == 0, result.output
    (run_dir,) = (tmp_path / "out" / "demo" / "brightness").iterdir()
    manifest = json.loads((run_dir / "manifest.json").read_text())
    assert manifest["adapter"]["describe"] == {"name": "brightness", "threshold": 0.4}


def test_sandbox_resolves_placeholders_and_adds_fast_settings(tmp_path):
    older = tmp_path / "results" / "demo" / "spectral" / "a"
    newer = tmp_path / "results" / "demo" / "spectral" / "b"
    older.mkdir(parents=True)
    newer.mkdir()
    os.utime(older, (1, 1))
    (tmp_path / "det.py").write_text("")
    block = Block(tmp_path / "p.md", 1, "console", "")
    argv = sandbox_argv(Command(block, "", ["fdrbench", "score", "results/demo/spectral/<run_id>"]), tmp_path)
    assert argv == ["score", "results/demo/spectral/b", "--n-boot", "20"]
    argv = sandbox_argv(Command(block, "", ["fdrbench", "run", "--model", "det.py:D", "--task", "demo", "--n-boot", "5"]), tmp_path)
    assert argv == ["run", "--model", f"{tmp_path / 'det.py'}:D", "--task", "demo", "--n-boot", "5", "--no-progress"]


# ----------------------------------------------------------------------------- links and the site


def slug_mkdocs(heading: str) -> str:
    text = unicodedata.normalize("NFKD", heading).encode("ascii", "ignore").decode()
    return re.sub(r"[-\s]+", "-", re.sub(r"[^\w\s-]", "", text).strip().lower())


def slug_github(heading: str) -> str:
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def _heading_text(heading: str) -> str:
    """A heading as rendered: code spans and emphasis marks dropped, link text kept."""
    return re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading).replace("`", "").replace("*", "")


def link_problems(page: Path) -> list[str]:
    problems = []
    for target in links(page):
        if re.match(r"[a-z][a-z0-9+.-]*:", target):
            continue
        file_part, _, anchor = target.partition("#")
        dest = (page.parent / file_part).resolve() if file_part else page
        if not dest.exists():
            problems.append(f"{_page_id(page)}: link to {target!r}: no such file")
            continue
        if anchor and dest.suffix == ".md":
            titles = [_heading_text(h) for h in headings(dest)]
            if anchor not in {slug_mkdocs(t) for t in titles} or anchor not in {slug_github(t) for t in titles}:
                problems.append(f"{_page_id(page)}: link to {target!r}: no heading with that anchor (on GitHub and in the site)")
    return problems


def test_every_relative_link_resolves():
    problems = [p for page in PAGES for p in link_problems(page)]
    assert not problems, "\n".join(problems)
    assert sum(len(links(page)) for page in PAGES) > 30


def test_the_link_check_catches_broken_links(tmp_path):
    (tmp_path / "other.md").write_text("# Other page\n\n## Scores and `ci`\n")
    page = tmp_path / "page.md"
    page.write_text(
        "[ok](other.md) [ok](other.md#scores-and-ci) [ok](#title) [web](https://example.org/x)\n"
        "[gone](missing.md) [bad anchor](other.md#nope)\n\n# Title\n\n```text\n[not a link](nowhere.md)\n```\n"
    )
    assert link_problems(page) == [
        f"{_page_id(page)}: link to 'missing.md': no such file",
        f"{_page_id(page)}: link to 'other.md#nope': no heading with that anchor (on GitHub and in the site)",
    ]


def test_readme_is_a_short_front_door():
    assert len((REPO / "README.md").read_text(encoding="utf-8").splitlines()) < 250
    assert "make docs" in (REPO / ".ci" / "run").read_text()
    assert "make test" in (REPO / ".ci" / "run").read_text()


def test_site_builds_strict_and_offline(tmp_path):
    """``mkdocs build --strict`` passes, and no built page loads a script or style from another host."""
    pytest.importorskip("mkdocs")
    site = tmp_path / "site"
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    remote = [
        f"{page.relative_to(site)}: {m.group(0)}"
        for page in site.rglob("*.html")
        for m in re.finditer(r"<(?:script|link)[^>]+(?:src|href)=\"(?:https?:)?//[^\"]+\"", page.read_text(encoding="utf-8"))
    ]
    assert not remote, "\n".join(remote)
    built = {p.relative_to(site).parent.as_posix() for p in site.rglob("index.html")}
    assert {page.stem for page in (REPO / "docs").glob("*.md") if page.stem != "index"} <= built
