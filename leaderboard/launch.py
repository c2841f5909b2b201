"""Start the Streamlit app over a results folder (``fdrbench leaderboard``).

The app learns where the results and the image data are from environment variables set here,
so nothing a visitor sends can point it at another folder. The process is replaced by
Streamlit's (``exec``), so whoever started ``fdrbench leaderboard`` can stop the server by the
pid they hold.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from fdrbench.errors import FdrbenchError

RESULTS_ENV = "FDRBENCH_RESULTS"
DATA_DIRS_ENV = "FDRBENCH_LEADERBOARD_DATA"
APP = Path(__file__).with_name("app.py")
STREAMLIT_MAIN = Path(__file__).with_name("streamlit_main.py")  # Streamlit without the working directory on the import path


def parse_data_dirs(items: list[str] | None) -> dict[str, str]:
    """``["demo=/data/demo", ...]`` -> ``{"demo": "/data/demo"}`` (absolute paths)."""
    out = {}
    for item in items or []:
        task, sep, path = item.partition("=")
        if not sep or not task or not path:
            raise FdrbenchError(f"--data-dir takes TASK=PATH, got {item!r}")
        out[task] = str(Path(path).expanduser().resolve())
    return out


def streamlit_command(port: int, address: str, headless: bool = True) -> list[str]:
    return [
        sys.executable,
        str(STREAMLIT_MAIN),
        "run",
        str(APP),
        "--server.address",
        address,
        "--server.port",
        str(port),
        "--server.headless",
        "true" if headless else "false",
        "--server.fileWatcherType",
        "none",
        "--browser.gatherUsageStats",
        "false",
        "--client.toolbarMode",
        "minimal",
    ]


def serve(
    results: Path, port: int = 8501, address: str = "127.0.0.1", data_dirs: dict[str, str] | None = None, headless: bool = True
) -> None:
    """Replace this process with the Streamlit server for ``results``."""
    try:
        import streamlit  # noqa: F401
    except ImportError as exc:
        raise FdrbenchError("the leaderboard needs Streamlit: pip install 'fdrbench[leaderboard]'") from exc
    results = Path(results).expanduser().resolve()
    if not results.is_dir():
        raise FdrbenchError(f"results folder {results} not found")
    env = {**os.environ, RESULTS_ENV: str(results), DATA_DIRS_ENV: json.dumps(data_dirs or {})}
    command = streamlit_command(port, address, headless)
    os.execve(command[0], command, env)
