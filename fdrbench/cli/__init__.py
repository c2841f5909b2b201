"""The ``fdrbench`` command line: argument handling only, one module per command group.

Only typer is imported at start-up; each command imports what it needs when it runs, so
``fdrbench --help`` stays fast. Errors the user can fix print one clear message and exit 2;
a run stopped by its failure budget exits 3 with its predictions kept. The commands live in
:mod:`.evaluation` (run, robustness, score, show, compare, list, train, demo; the options run and robustness
share are :mod:`.run_options`), :mod:`.publishing` (judge,
leaderboard, validate, submit) and :mod:`.datasets` (data check, data prepare) and :mod:`.reproducing` (reproduce).
"""

from __future__ import annotations

import sys

# each command group registers itself on ``app`` when imported (--help lists groups of subcommands last)
from fdrbench.cli import datasets, evaluation, exchange, publishing, reproducing  # noqa: F401
from fdrbench.cli.app import app


def main() -> None:
    app(prog_name="fdrbench")


__all__ = ["app", "main"]

if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
