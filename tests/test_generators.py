"""Generator metadata: the shipped table, the derived generator_family and released-after slices, pooled aggregates."""

from __future__ import annotations

import json

import pytest

from fdrbench.errors import FdrbenchError
from fdrbench.generators import Generator, GeneratorTable, date_span, plan_groups, window
from fdrbench.scoring import ScoreSettings
from fdrbench.stages.score import task_groups
from fdrbench.task import Aggregate, Task
from fdrbench.tasks.common.generators import catalog, general_table, load_catalog, table_for
from fdrbench.types import Truth

from .helpers.records import score_records

OLD = Generator(canonical="Old GAN", family="gan", released="2019-03-01", date_source="paper", date_kind="paper")
NEW = Generator(canonical="New DM", family="diffusion", released="2025-02", date_source="blog", date_kind="announcement")
YEAR = Generator(canonical="Year only", family="diffusion", released="2024", date_source="blog")
UNDATED = Generator(canonical="No date", family="undisclosed")
TABLE = GeneratorTable("generator", {"old-gan": OLD, "New_DM": NEW, "year": YEAR, "nodate": UNDATED}, frozenset({"real"}))


class SlicedTask(Task):
    name = "sliced"
    group_keys = ("generator",)

    def samples(self, data_dir, split):
        return []

    def generator_table(self):
        return TABLE


def rec(sid, truth, label, gen):
    return {"sample_id": sid, "label": label, "p_fake": float(label), "truth": {"label": truth, "group": {"generator": gen}}}


#: 3 paired sets (a generator's reals and fakes) and unpaired reals; verdicts chosen so each slice's accuracy is known
RECORDS = [
    rec("o1", 1, 1, "old-gan"),
    rec("o2", 1, 1, "old-gan"),
    rec("o3", 0, 0, "old-gan"),
    rec("n1", 1, 0, "New_DM"),
    rec("n2", 1, 1, "New DM"),  # another spelling of the same generator
    rec("n3", 0, 0, "New_DM"),
    rec("y1", 1, 0, "year"),
    rec("u1", 1, 0, "nodate"),
    rec("x1", 1, 1, "mystery"),
    rec("r1", 0, 1, "real"),
    rec("r2", 0, 0, "real"),
]


def test_dates_and_windows():
    assert [str(d) for d in date_span("2024")] == ["2024-01-01", "2024-12-31"]
    assert [str(d) for d in date_span("2024-02")] == ["2024-02-01", "2024-02-29"]
    assert [str(d) for d in date_span("2025-05-29")] == ["2025-05-29", "2025-05-29"]
    for bad in ("2024-13", "24-01", "2024/01", "2023-02-30", ""):
        with pytest.raises(FdrbenchError):
            date_span(bad)
    assert window(NEW, "2024-06") == "after"
    assert window(OLD, "2024-06") == "on_or_before"
    # released in 2024 (some day of it) against a June 2024 cutoff: cannot be placed, never guessed
    assert window(YEAR, "2024-06") == "uncertain" and window(YEAR, "2023-12") == "after" and window(YEAR, "2024") == "on_or_before"
    assert window(UNDATED, "2024-06") == window(None, "2024-06") == "undated"
    # a month-precision date against a day cutoff in the same month
    assert window(NEW, "2025-02-10") == "uncertain" and window(NEW, "2025-01-31") == "after"


def test_derived_groups_follow_the_generator_pairing():
    plan = plan_groups(("generator",), TABLE, {"released_after": "2024-06"})
    key = "released_after_2024-06"
    assert plan.keys == ("generator", "generator_family", key)

    def derive(label, gen):
        return plan.derive(Truth(label=label, group={"generator": gen}))

    assert derive(1, "old-gan") == {"generator_family": "gan", key: "on_or_before"}
    assert derive(0, "New_DM") == {"generator_family": "diffusion", key: "after"}  # a paired real follows its generator
    assert derive(1, "mystery") == {"generator_family": "unknown", key: "undated"}
    assert derive(0, "real") == {"generator_family": "real", key: "real"}
    assert derive(0, "somewhere") == {"generator_family": "real", key: "real"}  # a real without a known generator is unpaired
    assert plan_groups(("generator",), TABLE, {}).keys == ("generator", "generator_family")
    assert plan_groups(("generator",), None, {}).keys == ("generator",)
    with pytest.raises(FdrbenchError, match="needs generator metadata"):
        plan_groups(("generator",), None, {"released_after": "2024-06"})
    with pytest.raises(FdrbenchError, match="must be YYYY, YYYY-MM or YYYY-MM-DD"):
        plan_groups(("generator",), TABLE, {"released_after": "June 2024"})


def test_scores_gain_family_groups_pooled_released_after_aggregates_and_the_metadata():
    settings = ScoreSettings(n_boot=50, seed=0)
    blocks = score_records(RECORDS, SlicedTask(released_after="2024-06"), ["strict"], settings)
    block = blocks["strict"]
    families = block["groups"]["generator_family"]
    # gan: o1 o2 o3 all right; diffusion: n1 wrong, n2 n3 right, y1 wrong; real: r1 wrong, r2 right
    assert families["gan"]["accuracy"]["value"] == 1.0
    assert families["diffusion"]["accuracy"]["value"] == pytest.approx(2 / 4)
    assert families["real"]["accuracy"]["value"] == 0.5
    assert families["unknown"]["accuracy"]["value"] == 1.0 and families["undisclosed"]["accuracy"]["value"] == 0.0
    windows = block["group_sizes"]["released_after_2024-06"]
    assert windows == {"after": 3, "on_or_before": 3, "real": 2, "uncertain": 1, "undated": 2}
    after = block["aggregates"]["released_after_2024-06"]
    # pooled over n1 n2 n3 (after) and r1 r2 (unpaired reals): right are n2 n3 r2 -> 3/5
    assert after["accuracy"]["value"] == pytest.approx(3 / 5)
    assert after["fake_accuracy"]["value"] == pytest.approx(1 / 2) and after["real_accuracy"]["value"] == pytest.approx(2 / 3)
    before = block["aggregates"]["released_on_or_before_2024-06"]
    assert before["accuracy"]["value"] == pytest.approx(4 / 5)
    assert block["aggregate_members"]["released_after_2024-06"] == ["after", "real"]
    low, high = after["accuracy"]["ci"]
    assert low <= 3 / 5 <= high


def test_pooled_weighting_is_metrics_over_the_union_of_rows():
    class Toy(Task):
        name = "toy"
        group_keys = ("generator",)
        aggregates = {
            "macro": Aggregate("generator", ("a", "b")),
            "pooled": Aggregate("generator", ("a", "b"), weighting="pooled"),
        }

        def samples(self, data_dir, split):
            return []

    lines = [rec("a1", 1, 1, "a"), rec("b1", 1, 0, "b"), rec("b2", 0, 0, "b"), rec("b3", 0, 0, "b"), rec("c1", 1, 0, "c")]
    block = score_records(lines, Toy(), ["strict"], ScoreSettings(n_boot=0))["strict"]
    assert block["aggregates"]["macro"]["accuracy"]["value"] == pytest.approx((1.0 + 2 / 3) / 2)
    assert block["aggregates"]["pooled"]["accuracy"]["value"] == pytest.approx(3 / 4)


def test_the_released_after_option_is_checked_on_every_task():
    with pytest.raises(FdrbenchError, match="must be YYYY, YYYY-MM or YYYY-MM-DD"):
        SlicedTask(released_after="2024-6")
    assert SlicedTask(released_after=" 2024-06 ").options == {"released_after": "2024-06"}

    class Plain(SlicedTask):
        def generator_table(self):
            return None

    with pytest.raises(FdrbenchError, match="needs generator metadata"):
        task_groups(Plain(released_after="2024-06"))


def test_shipped_table_covers_the_benchmarks_names():
    from fdrbench.tasks.mmfr.loader import MMFR_SETS

    mmfr = table_for("mmfr_eval")
    assert all(mmfr.lookup(name) is not None for name in MMFR_SETS)
    assert mmfr.lookup("gpt4o").family == "autoregressive" and mmfr.lookup("gpt4o").released == "2025-03-25"
    assert mmfr.lookup("midjourney").released is None  # the version is not recorded: no date is guessed
    sofake = table_for("sofake_ood")
    assert sofake.lookup("seedream3.0").canonical == "Seedream 3.0" and sofake.is_real_source("real")
    assert sofake.lookup("sd").kind == "inpaint" and sofake.lookup("ideogram").kind == "edit"
    ddvqa = table_for("ddvqa")
    assert ddvqa.key == "manipulation" and ddvqa.lookup("NeuralTextures").family == "face-manipulation" and ddvqa.is_real_source("Original")
    assert table_for("demo") is None and table_for("loki") is None
    # benchmarks whose full name list is unknown also find every generator's spellings
    assert table_for("commfor_eval").lookup("SDXL").canonical == "Stable Diffusion XL 1.0"
    assert table_for("mmfr_eval").lookup("SDXL") is None
    general = general_table()
    assert general.lookup("Midjourney v5").released == "2023-03-15" and general.lookup("stable_diffusion_v_1_4").released == "2022-08-22"
    shipped = catalog()
    for gid, generator in shipped.generators.items():
        assert not generator.problems(), gid
        if generator.date_verified:
            assert generator.date_source and "recollection" not in generator.date_source, gid


def test_the_built_in_tasks_hand_their_table():
    from fdrbench.tasks.ddvqa import DDVQA
    from fdrbench.tasks.demo import DemoTask
    from fdrbench.tasks.mmfr import MMFREval

    assert task_groups(MMFREval()).keys == ("generator", "generator_family")
    assert task_groups(DDVQA(released_after="2019-06")).keys == ("manipulation", "part", "generator_family", "released_after_2019-06")
    assert task_groups(DemoTask()).keys == ("generator",)  # procedural generators: no metadata, no new groups


def _write(tmp_path, data) -> object:
    path = tmp_path / "generators.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d["generators"]["g"].update(family="transformer"), r"generators\.g: family 'transformer' is not one of"),
        (lambda d: d["generators"]["g"].update(released="2024-13"), r"generators\.g: date '2024-13'"),
        (lambda d: d["generators"]["g"].update(date_source=""), r"generators\.g: a release date needs its 'date_source'"),
        (lambda d: d["benchmarks"][0]["names"].update(y="nothing"), r"benchmarks\[0\]\.names\.y: names unknown generator 'nothing'"),
        (lambda d: d["benchmarks"][0]["names"].update({"X": "g"}), r"benchmarks\[0\]\.names\.X: is another spelling of 'x'"),
        (
            lambda d: d["generators"].update(h={**d["generators"]["g"], "canonical": "H", "aliases": ["G-1"]}),
            r"the spelling 'G-1' is already a name of 'g'",
        ),
        (lambda d: d["benchmarks"].append(dict(d["benchmarks"][0])), r"task 't' is already covered by benchmarks\[0\]"),
    ],
)
def test_a_malformed_table_names_the_entry(tmp_path, change, message):
    data = {
        "generators": {
            "g": {
                "canonical": "G",
                "family": "gan",
                "released": "2020-01",
                "date_source": "paper",
                "date_kind": "paper",
                "aliases": ["G-1"],
            }
        },
        "benchmarks": [{"tasks": ["t"], "key": "generator", "names": {"x": "g"}}],
    }
    assert load_catalog(_write(tmp_path, data)).benchmark("t").names["x"].canonical == "G"
    change(data)
    with pytest.raises(FdrbenchError, match=message):
        load_catalog(_write(tmp_path, data))
