"""Streamlit's command line, started without the working directory on the import path.

``python -m streamlit`` puts the folder it is started from first on ``sys.path``; started inside a
source checkout (``fdrbench/`` without its mapped ``leaderboard/``) that hides the installed
package, and started inside a stranger's results folder it would import any ``pandas.py`` or
``plotly.py`` lying there. Run as a file, Python puts this file's own folder first instead, which
is removed here before Streamlit is imported.
"""

from __future__ import annotations

import sys
from pathlib import Path

if __name__ == "__main__":
    here = Path(__file__).resolve().parent
    sys.path[:] = [entry for entry in sys.path if entry and Path(entry).resolve() != here]
    from streamlit.web.cli import main

    sys.exit(main(prog_name="streamlit"))
