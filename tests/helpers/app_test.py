"""The Streamlit leaderboard run in-process (``streamlit.testing.v1.AppTest``) on a results folder."""

from __future__ import annotations

import json
from pathlib import Path

from fdrbench.leaderboard.launch import APP, DATA_DIRS_ENV, RESULTS_ENV


def open_app(monkeypatch, root: Path, page: str = "overview", data_dirs: dict | None = None, **params):
    """The app on ``page`` of the results under ``root``, after its first run (query ``params`` set)."""
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv(RESULTS_ENV, str(root))
    monkeypatch.setenv(DATA_DIRS_ENV, json.dumps(data_dirs or {}))
    app = AppTest.from_file(str(APP), default_timeout=60)
    app.query_params["page"] = page
    for key, value in params.items():
        app.query_params[key] = value
    app.run()
    return app
