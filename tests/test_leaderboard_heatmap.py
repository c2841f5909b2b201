"""The per-generator heat map: the shared builder on hand-made scores and on real runs, and its page."""

from __future__ import annotations

import json

import pytest

from fdrbench.leaderboard import heatmap, tables
from fdrbench.store import read_json

from .helpers.leaderboard_results import leaderboard_results  # noqa: F401 - a fixture

HOSTILE_NAME = '<img src=x onerror="alert(1)">'


def entry(task: str, model: str, fingerprint: str = "f" * 64) -> dict:
    """An index entry of a complete run (what :func:`heatmap.build` reads of the index)."""
    return {
        "path": f"{task}/{model}/r1",
        "task": task,
        "task_version": "1",
        "model": model,
        "run_id": "r1",
        "status": "complete",
        "partial": False,
        "created": "2026-01-01T00:00:00+00:00",
        "split": "test",
        "limit": None,
        "data_fingerprint": fingerprint,
        "group_keys": ["generator"],
        "protocols": {"strict": {"overall": {}}},
    }


def scores(groups: dict[str, tuple[float, list[float], int]], known: dict | None = None) -> dict:
    """scores.json of a run: accuracy per generator (value, ci, n), and recorded generator facts."""
    out = {
        "protocols": {
            "strict": {
                "groups": {"generator": {g: {"accuracy": {"value": v, "ci": ci}} for g, (v, ci, _) in groups.items()}},
                "group_sizes": {"generator": {g: n for g, (_, _, n) in groups.items()}},
            }
        }
    }
    if known is not None:
        out["generators"] = {"key": "generator", "known": known}
    return out


FACTS = {
    "sd14": {"canonical": "Stable Diffusion 1.4", "family": "diffusion", "released": "2022-08-22"},
    "progan": {"canonical": "ProGAN", "family": "gan", "released": "2017-10-27"},
    "mystery": {"canonical": "Mystery", "family": "undisclosed", "released": None},
}


def two_benchmarks(known: dict | None) -> tuple[list[dict], dict[str, dict]]:
    runs = [entry("alpha", "det-a"), entry("alpha", "det-b"), entry("beta", "det-a", "e" * 64)]
    by_path = {
        "alpha/det-a/r1": scores(
            {"sd14": (0.9, [0.8, 0.95], 40), "progan": (0.7, [0.6, 0.8], 40), "mystery": (0.5, [0.4, 0.6], 10)}, known
        ),
        "alpha/det-b/r1": scores({"sd14": (0.6, [0.5, 0.7], 40), "progan": (0.8, [0.7, 0.9], 40)}, known),
        "beta/det-a/r1": scores({"sd14": (1.0, [1.0, 1.0], 5), HOSTILE_NAME: (0.25, [0.0, 0.5], 4)}, None),
    }
    return runs, by_path


def test_without_metadata_columns_are_benchmark_then_name_and_cells_carry_ci_and_n():
    runs, by_path = two_benchmarks(None)
    heat = heatmap.build(runs, lambda r: by_path[r["path"]], "strict", "accuracy")
    assert not heat.has_metadata and heat.families() == []
    assert [(c.task, c.value) for c in heat.columns] == [
        ("alpha", "mystery"),
        ("alpha", "progan"),
        ("alpha", "sd14"),
        ("beta", HOSTILE_NAME),
        ("beta", "sd14"),
    ]
    # sd14 is on both benchmarks, so its columns say which; the others keep their plain name
    assert [c.label for c in heat.columns] == ["mystery", "progan", "sd14 (alpha)", HOSTILE_NAME, "sd14 (beta)"]
    # better mean first: det-b (0.8 + 0.6) / 2 = 0.70 before det-a (0.5 + 0.7 + 0.9 + 0.25 + 1.0) / 5 = 0.67
    assert heat.detectors == ["det-b", "det-a"]
    assert heat.shown_values() == [[None, 80.0, 60.0, None, None], [50.0, 70.0, 90.0, 25.0, 100.0]]
    assert heat.cell("det-a", 2).hover("accuracy") == "90.0 [80.0, 95.0], n = 40"
    assert heat.cell("det-b", 0) is None
    assert list(heatmap.table(heat).iloc[0]) == ["det-b", "—", "80.0 [70.0, 90.0]", "60.0 [50.0, 70.0]", "—", "—"]
    with pytest.raises(ValueError, match="order must be one of"):
        heatmap.build(runs, lambda r: by_path[r["path"]], "strict", "accuracy", order="colour")


def test_with_metadata_columns_sort_by_release_date_with_undated_last_and_carry_families():
    runs, by_path = two_benchmarks(FACTS)
    heat = heatmap.build(runs, lambda r: by_path[r["path"]], "strict", "accuracy", order="release date")
    assert heat.has_metadata
    assert [(c.task, c.value, c.released) for c in heat.columns] == [
        ("alpha", "progan", "2017-10-27"),
        ("alpha", "sd14", "2022-08-22"),
        ("alpha", "mystery", None),  # a known generator without a date comes after the dated ones
        ("beta", HOSTILE_NAME, None),  # beta's scores carry no metadata
        ("beta", "sd14", None),
    ]
    assert [c.label for c in heat.columns][:3] == ["ProGAN", "Stable Diffusion 1.4 (alpha)", "Mystery"]
    assert [c.family for c in heat.columns] == ["gan", "diffusion", "undisclosed", None, None]
    assert heat.families() == ["diffusion", "gan", "undisclosed"]
    assert heatmap.family_colour("gan") == tables.FAMILY_COLOURS["gan"]
    assert heatmap.family_colour("</style>") == heatmap.family_colour(None) == heatmap.OTHER_FAMILY


def test_generator_facts_are_none_without_a_recorded_table():
    assert heatmap.generator_facts({}) is None
    assert heatmap.generator_facts({"generators": {"key": "category", "known": FACTS}}) is None
    assert heatmap.generator_facts({"generators": {"key": "generator", "known": {"x": "not an object"}}}) is None
    assert heatmap.generator_facts({"generators": {"key": "generator", "known": FACTS}}) == FACTS


def test_lower_is_better_metrics_put_the_lowest_mean_first():
    runs = [entry("alpha", "low"), entry("alpha", "high")]
    by_path = {
        "alpha/low/r1": {"protocols": {"strict": {"groups": {"generator": {"g": {"ece": {"value": 0.05, "ci": [0.01, 0.1]}}}}}}},
        "alpha/high/r1": {"protocols": {"strict": {"groups": {"generator": {"g": {"ece": {"value": 0.3, "ci": [0.2, 0.4]}}}}}}},
    }
    heat = heatmap.build(runs, lambda r: by_path[r["path"]], "strict", "ece")
    assert not heat.higher_is_better and heat.detectors == ["low", "high"]
    assert heat.cell("low", 0).n is None and heat.cell("low", 0).hover("ece") == "5.0 [1.0, 10.0]"


def test_real_runs_ranked_cohort_only(leaderboard_results):  # noqa: F811
    root, runs = leaderboard_results
    index = read_json(root / "index.json")
    heat = heatmap.build(index["runs"], lambda r: read_json(root / r["path"] / "scores.json"), "strict", "accuracy")
    # the subset run scored other data and the incomplete run is not complete: neither is in the map
    assert sorted(heat.detectors) == ["hashdet", "spectral", "textonly"]
    assert [c.value for c in heat.columns] == ["diffusion", "gan", "tampered"]
    for model in heat.detectors:
        groups = read_json(runs[model] / "scores.json")["protocols"]["strict"]["groups"]["generator"]
        for i, column in enumerate(heat.columns):
            assert heat.cell(model, i).value == groups[column.value]["accuracy"]["value"]
            assert heat.cell(model, i).n == 80


def test_generators_page_draws_the_heat_map_with_ci_on_hover(monkeypatch, leaderboard_results):  # noqa: F811
    pytest.importorskip("streamlit")
    from .helpers.app_test import open_app

    root, runs = leaderboard_results
    app = open_app(monkeypatch, root, "generators")
    assert not app.exception
    assert app.header[0].value == "Detectors by generator"
    spec = json.loads(app.get("plotly_chart")[0].proto.spec)
    trace = spec["data"][0]
    assert trace["type"] == "heatmap" and trace["x"] == ["diffusion", "gan", "tampered"]
    spectral = read_json(runs["spectral"] / "scores.json")["protocols"]["strict"]["groups"]["generator"]["gan"]["accuracy"]
    row = trace["y"].index("spectral")
    low, high = (round(100 * c, 1) for c in spectral["ci"])
    assert trace["customdata"][row][1] == f"{round(100 * spectral['value'], 1)} [{low}, {high}], n = 80"
    assert list(app.dataframe[0].value.columns) == ["detector", "demo · diffusion", "demo · gan", "demo · tampered"]
    app.selectbox(key="gen_order").set_value("release date").run()
    assert "record no generator metadata" in "\n".join(c.value for c in app.caption)
