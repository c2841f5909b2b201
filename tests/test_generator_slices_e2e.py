"""Generator slices end to end: a run on one's own folder with a release cutoff, its scores, validate, and the leaderboard table."""

from __future__ import annotations

import pytest

from fdrbench.leaderboard import tables
from fdrbench.leaderboard.index import update_index
from fdrbench.pipeline import RunConfig, run
from fdrbench.stages.score import score_run_dir
from fdrbench.store import SCORES, read_json
from fdrbench.tasks.folder import miniature
from fdrbench.validate import validate_run

from .helpers.app_test import open_app
from .helpers.leaderboard_results import TOYS

GENERATORS = ("sdxl", "midjourney_v5", "gpt4o", "mystery")


@pytest.fixture(scope="module")
def sliced_run(tmp_path_factory):
    data = miniature.build_generators(tmp_path_factory.mktemp("data"), GENERATORS)
    out = tmp_path_factory.mktemp("results")
    config = RunConfig(
        model=f"{TOYS}:HashDetector",
        task="folder",
        data_dir=data,
        task_args={"released_after": "2023-06"},
        out=out,
        n_boot=20,
        show_progress=False,
        device="cpu",
    )
    return out, run(config).run_dir, data


def test_scores_gain_families_release_slices_and_the_metadata(sliced_run):
    _, run_dir, _ = sliced_run
    scores = read_json(run_dir / SCORES)
    block = scores["protocols"]["strict"]
    # the real of an unknown generator's folder cannot be paired: it is in the family "real"
    assert set(block["groups"]["generator_family"]) == {"diffusion", "undisclosed", "autoregressive", "unknown", "real"}
    # each folder's real is paired with its generator: midjourney v5 (2023-03) is before the cutoff, sdxl and gpt4o after
    assert block["group_sizes"]["released_after_2023-06"] == {"after": 6, "on_or_before": 3, "undated": 2, "real": 1}
    assert block["aggregate_members"]["released_after_2023-06"] == ["after", "real"]
    assert block["aggregates"]["released_after_2023-06"]["accuracy"]["value"] is not None
    generators = scores["generators"]
    assert generators["key"] == "generator" and generators["cutoff"] == "2023-06" and generators["unknown"] == ["mystery"]
    assert generators["known"]["gpt4o"]["canonical"] == "GPT-4o image generation"
    assert generators["known"]["midjourney_v5"]["released"] == "2023-03-15"


def test_the_run_validates_and_rescores_identically(sliced_run):
    _, run_dir, data = sliced_run
    before = (run_dir / SCORES).read_bytes()
    score_run_dir(run_dir)
    assert (run_dir / SCORES).read_bytes() == before
    report = validate_run(run_dir, data_dir=data)
    assert report.ok, report.reasons()


def test_leaderboard_generator_table_by_release_date_coloured_by_family(sliced_run, monkeypatch):
    out, run_dir, _ = sliced_run
    update_index(out)
    scores = {"hashdet": read_json(run_dir / SCORES)}
    by_name = tables.generator_table(scores, "strict", "generator", "accuracy")
    assert list(by_name["generator"]) == ["gpt4o", "midjourney_v5", "mystery", "sdxl"]
    by_date = tables.generator_table(scores, "strict", "generator", "accuracy", "release date")
    assert list(by_date["generator"]) == ["midjourney_v5", "sdxl", "gpt4o", "mystery"]
    assert list(by_date["family"]) == ["undisclosed", "diffusion", "autoregressive", ""]
    assert list(by_date.columns[:7]) == ["generator", "generator model", "family", "weights", "released", "date verified", "n"]
    html = tables.by_family_colour(by_date).to_html()
    assert tables.FAMILY_COLOURS["diffusion"] in html and tables.FAMILY_COLOURS["autoregressive"] in html
    # the page: the table with its order switch, and the derived groups get sections of their own
    app = open_app(monkeypatch, out, "benchmark")
    assert not app.exception, [e.value for e in app.exception]
    app.radio(key="bm_group_order_generator").set_value("release date").run()
    shown = next(d.value for d in app.dataframe if "generator model" in d.value.columns)
    assert list(shown["generator"]) == ["midjourney_v5", "sdxl", "gpt4o", "mystery"]
    subheaders = [s.value for s in app.subheader]
    assert "Per generator\\_family" in subheaders or "Per generator_family" in subheaders
