"""The code blocks of README.md and docs/*.md, read by the rules that docs/writing-docs.md states.

A block is a fenced block. ``bash`` and ``console`` blocks hold commands, one per line (a
trailing backslash continues a line, ``#`` starts a comment); ``python`` blocks hold code.
An HTML comment on the line right before the fence changes what the tests do with a block:

* ``<!-- docs: syntax-only REASON -->``: the block is checked, not run (it needs a GPU,
  weights, a dataset, a server, or it installs something);
* ``<!-- docs: file NAME -->``: the block is written to ``NAME`` in the page's sandbox.

Everything else is run, in page order, in one sandbox folder per page.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path

COMMAND_LANGS = ("bash", "console")
#: launchers whose ``-m fdrbench ...`` tail is an fdrbench command line
LAUNCH_MODULE = "fdrbench"
_FENCE = re.compile(r"^(?P<indent>[ ]*)(?P<fence>`{3,}|~{3,})\s*(?P<info>[^`\s]*)")
_MARKER = re.compile(r"^\s*<!--\s*docs:\s*(?P<kind>syntax-only|file)\b(?P<arg>.*?)-->\s*$")
#: ``<run_id>``-style placeholders: one folder name, resolved in the sandbox
PLACEHOLDER = re.compile(r"<[A-Za-z_][\w-]*>")
_LINK = re.compile(r"(?<!!)\[[^\]]*\]\((?P<target>[^()\s]+)(?:\s+\"[^\"]*\")?\)")


@dataclass
class Block:
    """One fenced block and the marker before it."""

    path: Path
    line: int
    lang: str
    text: str
    marker: str | None = None
    marker_arg: str = ""

    @property
    def where(self) -> str:
        return f"{self.path.name}:{self.line}"

    @property
    def runnable(self) -> bool:
        return self.marker is None

    @property
    def file_name(self) -> str | None:
        return self.marker_arg if self.marker == "file" else None


@dataclass
class Command:
    """One logical line of a command block."""

    block: Block
    text: str
    words: list[str] = field(default_factory=list)

    @property
    def program(self) -> str:
        """``fdrbench``, ``make`` or ``other``."""
        if not self.words:
            return "other"
        if self.words[0] in ("fdrbench", "make"):
            return self.words[0]
        return "fdrbench" if self._module_index() is not None else "other"

    @property
    def argv(self) -> list[str]:
        """The words after the program name (after ``-m fdrbench`` for launchers)."""
        index = self._module_index()
        if self.words and self.words[0] in ("fdrbench", "make"):
            return self.words[1:]
        return self.words[index + 2 :] if index is not None else []

    def _module_index(self) -> int | None:
        for i, word in enumerate(self.words[:-1]):
            if word == "-m" and self.words[i + 1] == LAUNCH_MODULE:
                return i
        return None


def blocks(path: Path) -> list[Block]:
    """Every fenced block of a Markdown file, with its marker and its first line number."""
    lines = path.read_text(encoding="utf-8").splitlines()
    found: list[Block] = []
    i = 0
    while i < len(lines):
        opening = _FENCE.match(lines[i])
        if not opening:
            i += 1
            continue
        indent, fence = len(opening["indent"]), opening["fence"]
        body: list[str] = []
        j = i + 1
        while j < len(lines) and not lines[j].strip().startswith(fence):
            body.append(lines[j][indent:] if lines[j][:indent].strip() == "" else lines[j])
            j += 1
        marker = _MARKER.match(lines[i - 1]) if i > 0 else None
        found.append(
            Block(
                path=path,
                line=i + 1,
                lang=opening["info"].lower(),
                text="\n".join(body) + "\n",
                marker=marker["kind"] if marker else None,
                marker_arg=marker["arg"].strip() if marker else "",
            )
        )
        i = j + 1
    return found


def commands(block: Block) -> list[Command]:
    """The logical lines of a command block, split into words as a POSIX shell would."""
    out: list[Command] = []
    pending = ""
    for raw in block.text.splitlines():
        line = pending + raw
        if line.rstrip().endswith("\\"):
            pending = line.rstrip()[:-1] + " "
            continue
        pending = ""
        words = shlex.split(line, comments=True)
        if words:
            out.append(Command(block, line.strip(), words))
    return out


def links(path: Path) -> list[str]:
    """Targets of the Markdown links of a file, outside code blocks and code spans."""
    text = path.read_text(encoding="utf-8")
    text = re.sub(r"^( *)(`{3,}|~{3,}).*?^\1\2", "", text, flags=re.S | re.M)
    text = re.sub(r"`[^`\n]*`", "", text)
    return [m["target"] for m in _LINK.finditer(text)]


def headings(path: Path) -> list[str]:
    """The ATX headings of a file, outside code blocks."""
    text = path.read_text(encoding="utf-8")
    text = re.sub(r"^( *)(`{3,}|~{3,}).*?^\1\2", "", text, flags=re.S | re.M)
    return [m.group(1).strip() for m in re.finditer(r"^#{1,6}\s+(.*?)\s*#*\s*$", text, re.M)]
