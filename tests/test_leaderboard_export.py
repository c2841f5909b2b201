"""``fdrbench leaderboard export``: the static site from the app's own tables, hostile text kept text."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from fdrbench.cli import app
from fdrbench.errors import FdrbenchError
from fdrbench.leaderboard import tables
from fdrbench.leaderboard.export import MARKER, export_site, slug
from fdrbench.leaderboard.index import load_index
from fdrbench.store import MANIFEST, SCORES, read_json, umask, write_json_atomic

from .helpers.leaderboard_results import HOSTILE, leaderboard_results  # noqa: F401 - a fixture
from .helpers.robustness_results import make_hostile, robustness_sweep  # noqa: F401 - a fixture

HOSTILE_MODEL = "<script>alert('m')</script>"
HOSTILE_GROUP = '<img src=x onerror="alert(1)">'


def pages(out: Path) -> dict[str, str]:
    return {p.relative_to(out).as_posix(): p.read_text() for p in out.rglob("*.html")}


def cells(html_text: str) -> list[list[str]]:
    """The rows of every table in a page, as the text of their cells."""
    rows = re.findall(r"<tr>(.*?)</tr>", html_text, flags=re.S)
    return [[re.sub(r"<[^>]+>", "", c) for c in re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", row, flags=re.S)] for row in rows]


@pytest.fixture(scope="module")
def site(leaderboard_results, tmp_path_factory):  # noqa: F811
    root, runs = leaderboard_results
    out = tmp_path_factory.mktemp("site") / "site"
    done = export_site(root, out)
    return root, runs, out, done


def test_every_page_is_written_and_linked(site):
    root, runs, out, done = site
    written = pages(out)
    index = load_index(root).index
    expected = {"index.html", "generators.html", "bench/" + slug("demo") + ".html", "runs/index.html"}
    expected |= {f"runs/{slug(r['path'])}.html" for r in index["runs"]}
    assert set(written) == expected and done.runs == 5
    assert (out / MARKER).is_file() and json.loads((out / "data" / "index.json").read_text())["runs"] == index["runs"]
    assert out.stat().st_mode & 0o777 == 0o777 & ~umask()  # readable as a folder mkdir made, not mkdtemp's private one
    assert (out / "index.html").stat().st_mode & 0o777 == 0o666 & ~umask()
    for name, text in written.items():
        for href in re.findall(r'href="([^"]+)"', text):
            assert (out / name).parent.joinpath(href).resolve().is_file(), f"{name} links to missing {href}"


def test_overview_is_the_apps_table(site):
    root, _, out, _ = site
    index = load_index(root).index
    frame, _ = tables.overview(index, "strict", "accuracy")
    shown = tables.visible(frame)
    html_text = (out / "index.html").read_text()
    first = html_text.split("<details open>", 1)[1].split("</details>", 1)[0]
    rows = cells(first)
    assert rows[0] == list(shown.columns)
    for row, (_, expected) in zip(rows[1 : 1 + len(shown)], shown.iterrows(), strict=True):
        assert row == [("—" if v is None or v != v else str(v)) for v in expected]
    assert "a subset of 60 samples (ranked runs: the full split)" in html_text
    assert "Incomplete or partial runs" in html_text and "halfway" in html_text
    summary = json.loads((out / "data" / "overview.json").read_text())
    assert summary["strict"]["accuracy"] == json.loads(shown.to_json(orient="records"))


def test_benchmark_page_has_per_generator_tables_heat_map_and_run_links(site):
    _, runs, out, _ = site
    text = (out / "bench" / f"{slug('demo')}.html").read_text()
    assert "Per generator: accuracy" in text and text.count("<svg") >= 1
    spectral = read_json(runs["spectral"] / SCORES)["protocols"]["strict"]["groups"]["generator"]["gan"]["accuracy"]
    low, high = (round(100 * c, 1) for c in spectral["ci"])
    assert f"spectral · demo · gan: {round(100 * spectral['value'], 1)} [{low}, {high}], n = 80</title>" in text
    path = runs["spectral"].relative_to(runs["spectral"].parents[2]).as_posix()
    assert f'href="../runs/{slug(path)}.html"' in text


def test_run_page_shows_provenance_and_manifest(site):
    _, runs, out, _ = site
    path = runs["spectral"].relative_to(runs["spectral"].parents[2]).as_posix()
    text = (out / "runs" / f"{slug(path)}.html").read_text()
    manifest = read_json(runs["spectral"] / MANIFEST)
    assert manifest["data_fingerprint"] in text and "sha256 of scores" in text
    assert "<h2>manifest.json</h2><pre>" in text and "&quot;run_id&quot;" in text


def test_hostile_names_stay_text_and_nothing_is_fetched(leaderboard_results, tmp_path):  # noqa: F811
    root, runs = leaderboard_results
    copy = tmp_path / "results"
    shutil.copytree(root, copy)
    run = copy / runs["hashdet"].relative_to(root)
    manifest = read_json(run / MANIFEST)
    manifest["model"] = HOSTILE_MODEL
    write_json_atomic(run / MANIFEST, manifest)
    scores = read_json(run / SCORES)
    scores["model"] = HOSTILE_MODEL
    for block in scores["protocols"].values():
        block["groups"]["generator"][HOSTILE_GROUP] = block["groups"]["generator"].pop("gan")
        block["group_sizes"]["generator"][HOSTILE_GROUP] = block["group_sizes"]["generator"].pop("gan")
    write_json_atomic(run / SCORES, scores)
    out = tmp_path / "site"
    export_site(copy, out)
    written = pages(out)
    every = "".join(written.values())
    assert HOSTILE_MODEL not in every and HOSTILE_GROUP not in every
    assert "&lt;script&gt;alert(&#x27;m&#x27;)&lt;/script&gt;" in written["index.html"]
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in written["generators.html"]
    for name, text in written.items():
        assert "<script" not in text.lower(), name
        assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:|//)""", text, flags=re.I), name
        assert "default-src 'none'" in text


def test_out_folder_rules(leaderboard_results, tmp_path):  # noqa: F811
    root, _ = leaderboard_results
    with pytest.raises(FdrbenchError, match="inside the results folder"):
        export_site(root, root / "site")
    foreign = tmp_path / "mine"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("keep me")
    with pytest.raises(FdrbenchError, match="other files in it"):
        export_site(root, foreign)
    assert [p.name for p in foreign.iterdir()] == ["notes.txt"]
    out = tmp_path / "site"
    export_site(root, out)
    (out / "stale.html").write_text("from an older export")
    export_site(root, out)  # a site written before is replaced whole
    assert not (out / "stale.html").exists() and (out / "index.html").is_file()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".site.")]  # no staging folder left behind


def test_cli_export(leaderboard_results, tmp_path):  # noqa: F811
    root, _ = leaderboard_results
    runner = CliRunner()
    result = runner.invoke(app, ["leaderboard", "export", "--results", str(root), "--out", str(tmp_path / "s"), "--no-progress"])
    assert result.exit_code == 0, result.output
    assert re.match(r"wrote 9 pages for 5 runs to .* in \d+\.\d s; open .*index\.html", result.output.strip())
    result = runner.invoke(app, ["leaderboard", "export", "--results", str(tmp_path / "none"), "--out", str(tmp_path / "t")])
    assert result.exit_code == 2 and "error: results folder" in result.output


def section(html_text: str, summary: str) -> str:
    """The first ``<details>`` block whose summary is ``summary``, up to its first closing tag."""
    return html_text.split(f"<summary>{summary}</summary>", 1)[1].split("</details>", 1)[0]


def expected_rows(frame) -> list[list[str]]:
    return [[("—" if v is None or v != v else str(v)) for v in row] for _, row in frame.iterrows()]


@pytest.fixture
def swept(robustness_sweep, tmp_path) -> Path:  # noqa: F811
    root = tmp_path / "results"
    shutil.copytree(robustness_sweep[0], root)
    return root


def test_robustness_page_is_the_apps_chart_drops_and_stability(swept, tmp_path):
    from fdrbench.leaderboard import robustness as sweeps
    from fdrbench.leaderboard.tables import shown
    from fdrbench.results import Robustness, find_robustness

    out = tmp_path / "site"
    export_site(swept, out)
    text = (out / "robustness.html").read_text()
    assert '<a href="robustness.html">Robustness</a>' in (out / "index.html").read_text()
    assert '<a href="../robustness.html">Robustness</a>' in (out / "runs" / "index.html").read_text()
    (path,) = find_robustness(swept)
    robustness = Robustness.read(path)
    assert f'<p class="note">{robustness.description}</p>' in text
    files, invalid = sweeps.load(swept, load_index(swept).index["runs"])
    (group,) = sweeps.groups(files)["demo"]
    assert not invalid and f"<h3>{group.label}</h3>" in text

    strict = text.split("<summary>Protocol strict</summary>", 1)[1]
    accuracy = section(strict, "accuracy")
    rows = cells(accuracy)
    drops = sweeps.drops_table(group, "strict", "accuracy")
    assert rows[0] == list(drops.columns) and rows[1:] == expected_rows(drops)
    assert [r[1] for r in rows[1:]] == ["jpeg90", "jpeg75", "jpeg50", "jpeg25"] and rows[-1][2] == "jpeg:q=25"

    # the chart: one line, a point and a whisker per condition, each point's value and interval in its tooltip
    chart = accuracy.split("<svg", 1)[1].split("</svg>", 1)[0]
    assert chart.count("<polyline") == 1 and chart.count("<circle") == 5 and chart.count("<line") == 2 + 3 + 5
    labels = re.findall(r'text-anchor="middle"><title>([^<]+)</title>', chart)
    assert labels == ["clean", "jpeg90", "jpeg75", "jpeg50", "jpeg25"]
    clean = robustness.protocols["strict"].metrics["accuracy"].clean
    low, high = (shown(c, "accuracy") for c in clean.ci)
    assert f"<title>spectral · clean: {shown(clean.value, 'accuracy'):g} [{low:g}, {high:g}]</title>" in chart

    stability = cells(strict.split("<h4>Stability of verdicts and explanations</h4>", 1)[1].split("</table>", 1)[0])
    expected = sweeps.stability_table(group, "strict")
    assert stability[0] == list(expected.columns) and stability[1:] == expected_rows(expected)
    paper = text.split("<summary>Protocol paper</summary>", 1)[1]
    assert "No detector has a value of accuracy under this protocol." in section(paper, "accuracy")
    assert "<script" not in text.lower()


def test_robustness_page_keeps_stored_text_as_text_and_lists_bad_files(swept, tmp_path):
    from fdrbench.results import Robustness, find_robustness

    path = find_robustness(swept)[0]
    make_hostile(path, HOSTILE)
    broken = swept / "demo" / "broken" / "robustness" / "x.json"
    broken.parent.mkdir(parents=True)
    broken.write_text("not json")
    ref = Robustness.read(path).runs[3]
    scores = swept / "demo" / "spectral" / ref.run_id / SCORES
    scores.write_text(scores.read_text() + "\n")
    from fdrbench.leaderboard.index import update_index

    update_index(swept)
    out = tmp_path / "site"
    export_site(swept, out)
    text = (out / "robustness.html").read_text()
    assert HOSTILE not in text and "<b>x</b>" not in text and "<script" not in text.lower()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text and "&lt;b&gt;x&lt;/b&gt;" in text
    assert '<p class="warn">Left out, invalid: demo/broken/robustness/x.json: ' in text
    assert f"run {ref.run_id} (jpeg50) has changed since this file was computed" in text
    assert "spectral: this sweep may be out of date" in text
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:|//)""", text, flags=re.I)


def test_no_robustness_page_without_a_sweep(site):
    _, _, out, _ = site
    assert not (out / "robustness.html").exists() and "robustness.html" not in (out / "index.html").read_text()
