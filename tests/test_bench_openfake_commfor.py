"""OpenFake and Community Forensics on miniatures of their parquet releases: polarity, pairing, groups, pinned revisions."""

from __future__ import annotations

import pytest

from fdrbench.datacheck import check_task
from fdrbench.errors import DataError
from fdrbench.fingerprints import fingerprint_samples
from fdrbench.scoring import ScoreSettings
from fdrbench.stages.score import task_groups
from fdrbench.tasks.commfor import CommForEval
from fdrbench.tasks.commfor import miniature as commfor_mini
from fdrbench.tasks.openfake import OpenFake
from fdrbench.tasks.openfake import miniature as openfake_mini
from fdrbench.types import FAKE, REAL

from .helpers.records import line_for, score_records

# --------------------------------------------------------------------------- OpenFake


def test_openfake_core_test_split(tmp_path):
    root = openfake_mini.build(tmp_path / "of")
    task = OpenFake(revision="a2d0d4e")
    samples = task.load(root)
    assert [s.label for s in samples] == [REAL, FAKE, FAKE, REAL, FAKE]
    assert samples[0].group == {"real_source": "laion"} and samples[3].group == {}
    assert samples[1].group == {"generator": "gpt-image-1", "type": "Base"}
    assert samples[2].group["type"] == "Fine-tune" and samples[1].meta["release_date"] == "2025-04-23"
    assert samples[0].id == "core/test-00000-of-00001.parquet#0" and samples[4].load_image().size == (8, 8)
    assert samples[0].truth().content == "ComplexDataLab/OpenFake@a2d0d4e"
    # generator family and release dates come from fdrbench's table, not the release_date column
    plan = task_groups(OpenFake(released_after="2025-01"))
    assert plan.derive(samples[1].truth()) == {"generator_family": "autoregressive", "released_after_2025-01": "after"}
    assert plan.derive(samples[4].truth()) == {"generator_family": "diffusion", "released_after_2025-01": "on_or_before"}
    assert plan.derive(samples[2].truth())["generator_family"] == "unknown"


def test_openfake_revision_is_in_the_fingerprint_and_unpinned_runs_are_noted(tmp_path):
    root = openfake_mini.build(tmp_path / "of")
    assert fingerprint_samples(OpenFake(revision="aaa").load(root)) != fingerprint_samples(OpenFake(revision="bbb").load(root))
    task = OpenFake()
    task.load(root)
    assert task.load_report()["counts"] == {"revision_not_pinned": 1}


def test_openfake_earliest_layout_and_bad_labels(tmp_path):
    early = openfake_mini.build(tmp_path / "early", layout="data")
    assert [s.label for s in OpenFake().load(early)] == [REAL, FAKE, FAKE, REAL, FAKE]
    bad = openfake_mini.build(tmp_path / "bad", labels=["real", "fake", "1", "real", "fake"])
    with pytest.raises(DataError, match=r"test-00000-of-00001.parquet: record core/test-00000-of-00001.parquet#2: unknown label '1'"):
        OpenFake().load(bad)


# --------------------------------------------------------------------------- Community Forensics


def test_commfor_polarity_pairing_and_groups(tmp_path):
    root = commfor_mini.build(tmp_path / "cf")
    samples = {s.id: s for s in CommForEval().load(root)}
    assert {k: s.label for k, s in samples.items()} == {
        "real_0001.png": REAL,
        "dfgan_0001.png": FAKE,
        "real_0002.jpg": REAL,
        "flux_0001.png": FAKE,
        "mj_0001.png": FAKE,
    }
    # reals keep their paired generator; real_source lower-cased on reals only
    assert samples["real_0001.png"].group == {"generator": "DFGAN", "architecture": "GAN", "real_source": "coco"}
    assert samples["dfgan_0001.png"].group == {"generator": "DFGAN", "architecture": "GAN"}
    assert samples["real_0002.jpg"].group["real_source"] == "laion"
    assert samples["real_0002.jpg"].load_image().size == (8, 8)  # raw bytes in image_data, across two shards
    plan = task_groups(CommForEval())
    # a paired real follows its generator's family
    assert plan.derive(samples["real_0001.png"].truth()) == {"generator_family": "gan"}
    assert plan.derive(samples["mj_0001.png"].truth()) == {"generator_family": "undisclosed"}


def test_commfor_bad_labels(tmp_path):
    root = commfor_mini.build(tmp_path / "cf", labels=[0, 1, 2, 1, 1])
    with pytest.raises(DataError, match=r"unknown label 2; Community Forensics labels are 0 \(real\) and 1 \(fake\)"):
        CommForEval().load(root)


def test_commfor_paper_protocol_thresholds_p_fake_at_one_half(tmp_path):
    samples = CommForEval().load(commfor_mini.build(tmp_path / "cf"))
    p = {"real_0001.png": 0.2, "dfgan_0001.png": 0.5, "real_0002.jpg": 0.7, "flux_0001.png": 0.9, "mj_0001.png": 0.4}
    # stored verdicts all "real": the paper protocol reads p_fake >= 0.5 as fake instead
    lines = [line_for(s, label=REAL, p_fake=p[s.id]) for s in samples]
    blocks = score_records(lines, CommForEval(), ["strict", "paper"], ScoreSettings(n_boot=0))
    assert blocks["strict"]["overall"]["accuracy"]["value"] == pytest.approx(2 / 5)
    assert blocks["paper"]["overall"]["accuracy"]["value"] == pytest.approx(3 / 5)
    assert blocks["paper"]["overall"]["ap"]["value"] == blocks["strict"]["overall"]["ap"]["value"]


def test_data_check(tmp_path):
    assert check_task("openfake", openfake_mini.build(tmp_path / "of"), split="test", show_progress=False)["ok"]
    report = check_task("commfor_eval", commfor_mini.build(tmp_path / "cf"), show_progress=False)
    assert report["ok"] and report["splits"][0]["by_group"]["architecture"]["Commercial"]["n"] == 3
