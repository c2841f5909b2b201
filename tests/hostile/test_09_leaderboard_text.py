"""Class 9: everything the leaderboard shows from a results folder is shown as text, never as
Markdown or HTML: names, splits, versions, protocol descriptions, group keys and values."""

from __future__ import annotations

import re
import shutil

import pytest

from fdrbench.leaderboard.index import update_index

from ..helpers.app_test import open_app
from .kit import demo_run, edit_json

pytest.importorskip("streamlit")
from streamlit.testing.v1 import AppTest  # noqa: E402

PAYLOAD = "**bold** <img src=x onerror=alert(1)> [link](javascript:alert(1)) :red[red] $x^2$ #h"
#: the payload's pieces as Markdown or HTML would act on them (an escaped one has a backslash before it)
LIVE = [re.compile(p) for p in (r"(?<!\\)\*\*bold", r"(?<!\\)<img", r"(?<!\\)\]\(javascript", r"(?<!\\):red\[red", r"(?<!\\)\$x")]


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    root = tmp_path_factory.mktemp("text") / "results"
    good = demo_run(root)

    def hostile(model: str, fingerprint: str | None):
        target = root / "demo" / model / good.name
        shutil.copytree(good, target)

        def manifest(m):
            m["model"] = PAYLOAD
            m["task_info"]["split"] = PAYLOAD
            m["task_info"]["group_keys"] = [PAYLOAD]
            if fingerprint:
                m["data_fingerprint"] = fingerprint

        def scores(s):
            s["model"] = PAYLOAD
            for block in s["protocols"].values():
                block["protocol"]["description"] = PAYLOAD
                block["groups"] = {PAYLOAD: {PAYLOAD: next(iter(block["groups"].values()))["gan"]}}
            if fingerprint:
                s["data_fingerprint"] = fingerprint

        edit_json(target / "manifest.json", manifest)
        edit_json(target / "scores.json", scores)
        lines = (target / "predictions.jsonl").read_text().replace('"generator"', '"' + PAYLOAD.replace('"', '\\"') + '"')
        (target / "predictions.jsonl").write_text(lines)
        return target

    same = hostile("same-data", None)
    hostile("other-data", "f" * 64)
    update_index(root)
    return root, same.relative_to(root).as_posix()


def rendered_as_markdown(app: AppTest) -> list[str]:
    """Every string the app hands to Streamlit's Markdown renderer: bodies, titles and widget labels."""
    out = []
    for kind in ("markdown", "caption", "warning", "info", "error", "success", "header", "subheader", "title"):
        out += [e.value for e in getattr(app, kind)]
    for kind in ("expander", "tabs", "selectbox", "multiselect", "text_input", "number_input"):
        out += [getattr(e, "label", "") or "" for e in getattr(app, kind)]
    return out


@pytest.mark.parametrize("page", ["overview", "benchmark", "explorer", "compare"])
def test_results_text_is_never_rendered(monkeypatch, results, page):
    root, hostile = results
    app = open_app(monkeypatch, root, page, run=hostile)
    assert not app.exception, [e.value for e in app.exception]
    for shown in rendered_as_markdown(app):
        for pattern in LIVE:
            assert not pattern.search(shown), (page, shown)
    if page == "overview":
        assert any("Not ranked with the table above" in w.value for w in app.warning), "the cohort label is shown, escaped"
    if page == "benchmark":
        assert any(PAYLOAD in t.value for t in app.text), "the protocol description is shown as plain text"
        assert any("\\*\\*bold\\*\\*" in s.value for s in app.subheader), "the group key is shown, escaped"
    if page == "explorer":
        assert any(PAYLOAD in t.value for t in app.text), "the group shows as plain text"
