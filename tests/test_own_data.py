"""Bring your own data: ``folder``, ``manifest`` and ``hf`` on miniature copies of the layouts people use."""

from __future__ import annotations

import hashlib
import os

import pytest

from fdrbench.datacheck import check_task
from fdrbench.errors import DataError, FdrbenchError
from fdrbench.fingerprints import fingerprint_samples
from fdrbench.stages.score import task_groups
from fdrbench.tasks.common.miniature import write_image
from fdrbench.tasks.folder import FolderTask
from fdrbench.tasks.folder import miniature as folder_mini
from fdrbench.tasks.hf_images import HFImagesTask
from fdrbench.tasks.hf_images import miniature as hf_mini
from fdrbench.tasks.manifest_task import ManifestTask
from fdrbench.tasks.manifest_task import miniature as manifest_mini
from fdrbench.types import FAKE, REAL

# --------------------------------------------------------------------------- folder


@pytest.mark.parametrize(("real", "fake"), [("real", "fake"), ("0_real", "1_fake"), ("Real", "FAKE")])
def test_folder_flat_layouts(tmp_path, real, fake):
    root = folder_mini.build_flat(tmp_path / "d", real, fake)
    task = FolderTask()
    samples = task.load(root)
    assert {s.id: s.label for s in samples} == {
        f"{real}/r1.png": REAL,
        f"{real}/day2/r2.jpg": REAL,
        f"{fake}/f1.png": FAKE,
        f"{fake}/f2.webp": FAKE,
    }
    assert all(s.group == {} for s in samples)
    assert task.load_report()["counts"] == {"non_image_files": 1}
    assert task.options["masks"] is False and task.options["references"] is False and task.label_space == "binary"
    first = next(s for s in samples if s.id.endswith("f1.png"))
    expected = hashlib.sha256((root / fake / "f1.png").read_bytes()).hexdigest()
    assert first.truth().content == f"sha256:{expected}"


def test_folder_fingerprint_follows_the_image_bytes_not_only_the_names(tmp_path):
    a = folder_mini.build_flat(tmp_path / "a")
    b = folder_mini.build_flat(tmp_path / "b")
    assert fingerprint_samples(FolderTask().load(a)) == fingerprint_samples(FolderTask().load(b))
    write_image(b / "fake" / "f1.png", (1, 2, 3))  # same name, other pixels
    assert fingerprint_samples(FolderTask().load(a)) != fingerprint_samples(FolderTask().load(b))
    # without content hashing only the names and labels count
    assert fingerprint_samples(FolderTask(content_hash=False).load(a)) == fingerprint_samples(FolderTask(content_hash=False).load(b))


def test_folder_per_generator_with_masks_and_explanations(tmp_path):
    root = folder_mini.build_generators(tmp_path / "d")
    task = FolderTask()
    samples = {s.id: s for s in task.load(root)}
    assert len(samples) == 6
    fake = samples["midjourney_v5/1_fake/midjourney_v5_f.png"]
    assert fake.group == {"generator": "midjourney_v5"} and fake.label == FAKE
    assert fake.reference.text == "The midjourney_v5 image has smeared hands."
    assert fake.load_mask().sum() == 16
    assert samples["sdxl/0_real/sdxl_r.png"].label == REAL and samples["sdxl/0_real/sdxl_r.png"].mask is None
    assert samples["sdxl/1_fake/sdxl_g.png"].mask is None
    assert task.load_report()["counts"] == {"explanations_without_image": 1}
    # flags found in the data are recorded, so a re-score builds the same protocols from the stored options
    assert task.options["masks"] is True and task.options["references"] is True
    strict = task.protocols()["strict"].metrics
    assert "giou" in strict and "rouge_l" in strict
    again = FolderTask(**task.options)
    assert again.protocols()["strict"].metrics == strict
    # generator folder names meet the shipped table's spellings
    groups = task_groups(task)
    assert groups.keys == ("generator", "generator_family")
    assert groups.derive(fake.truth()) == {"generator_family": "undisclosed"}
    assert groups.table.lookup("sdxl").canonical == "Stable Diffusion XL 1.0"


def test_folder_genimage_style_subfolder(tmp_path):
    root = folder_mini.build_generators(tmp_path / "d", ("ADM", "wukong"), subdir="val", real="nature", fake="ai")
    samples = FolderTask(subdir="val").load(root)
    assert {s.group["generator"] for s in samples} == {"ADM", "wukong"}
    assert sum(s.label for s in samples) == 4
    assert len(FolderTask(real_dirs="nature", fake_dirs="ai", subdir="val").load(root)) == 6
    with pytest.raises(DataError, match="no image folders found"):
        FolderTask().load(root)  # without subdir the label folders are not where the layout says


def test_folder_errors(tmp_path):
    mixed = folder_mini.build_flat(tmp_path / "mixed")
    folder_mini.build_generators(mixed, ("sdxl",))
    with pytest.raises(DataError, match="label folders both at the top and inside"):
        FolderTask().load(mixed)
    (tmp_path / "empty" / "stuff").mkdir(parents=True)
    with pytest.raises(DataError, match=r"no image folders found \(expected real/0_real/nature and fake/1_fake/ai"):
        FolderTask().load(tmp_path / "empty")
    outside = write_image(tmp_path / "elsewhere.png")
    linked = folder_mini.build_flat(tmp_path / "linked")
    os.symlink(outside, linked / "fake" / "escape.png")
    with pytest.raises(DataError, match="points outside the data folder"):
        FolderTask().load(linked)
    bad = folder_mini.build_flat(tmp_path / "bad")
    (bad / "explanations.jsonl").write_text('{"image": "../x.png", "reference": "t"}\n', encoding="utf-8")
    with pytest.raises(DataError, match=r"explanations.jsonl: record line 1: path '../x.png' has a '..' component"):
        FolderTask().load(bad)


# --------------------------------------------------------------------------- manifest


def test_manifest_csv_with_declared_polarity(tmp_path):
    path = manifest_mini.build(tmp_path / "d")
    task = ManifestTask(file="labels.csv", fake_is=1)
    samples = {s.id: s for s in task.load(tmp_path / "d")}
    assert {k: (s.label, s.cls) for k, s in samples.items()} == {
        "imgs/a.png": (REAL, "real"),
        "imgs/b.png": (FAKE, "full_synthetic"),
        "imgs/c.jpg": (FAKE, "tampered"),
        "imgs/d.png": (REAL, "real"),
    }
    assert samples["imgs/b.png"].group == {"generator": "SDXL", "source": "web"}
    assert samples["imgs/d.png"].group == {}
    assert samples["imgs/b.png"].reference.text == "Waxy skin."
    assert samples["imgs/c.jpg"].load_mask().sum() == 16
    # every sample has a class: the task is three-way, with masks and references; all recorded
    assert task.options["label_space"] == "ternary" and task.label_space == "ternary"
    assert task.options["masks"] is True and task.options["references"] is True and task.options["groups"] == ["source"]
    assert task.group_keys == ("generator", "source")
    assert ManifestTask(**task.options).group_keys == ("generator", "source")
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")


@pytest.mark.parametrize(
    ("labels", "options"), [(("real", "fake"), {"fake_is": "fake"}), ((1, 0), {"fake_is": 0}), (("r", "f"), {"label_map": "r:real,f:fake"})]
)
def test_manifest_jsonl_and_other_polarities(tmp_path, labels, options):
    manifest_mini.build(tmp_path / "d", "jsonl", labels=labels)
    samples = ManifestTask(file="labels.jsonl", **options).load(tmp_path / "d")
    assert [s.label for s in sorted(samples, key=lambda s: s.id)] == [REAL, FAKE, FAKE, REAL]


def test_manifest_polarity_is_never_guessed(tmp_path):
    manifest_mini.build(tmp_path / "d")
    with pytest.raises(FdrbenchError, match=r"label polarity must be declared, never guessed \(the labels hold \['0', '1'\]\)"):
        ManifestTask(file="labels.csv").load(tmp_path / "d")
    rows = [dict(r) for r in manifest_mini.ROWS]
    rows[3]["label"] = 2
    manifest_mini.build(tmp_path / "three", rows=rows)
    with pytest.raises(FdrbenchError, match=r"more than one value is left for real; name it with real_is"):
        ManifestTask(file="labels.csv", fake_is=1).load(tmp_path / "three")
    with pytest.raises(DataError, match=r"labels.csv: record line 5: label '2' is none of the declared values \['0', '1'\]"):
        ManifestTask(file="labels.csv", fake_is=1, real_is=0).load(tmp_path / "three")


def test_manifest_bad_records(tmp_path):
    root = tmp_path / "d"
    manifest_mini.build(root)
    (root / "escape.csv").write_text("image,label\n../outside.png,1\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"escape.csv: record line 2: path '../outside.png' has a '..' component"):
        ManifestTask(file="escape.csv", fake_is=1).load(root)
    (root / "wrong.csv").write_text("image,label,class\nimgs/a.png,0,tampered\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"record line 2: class 'tampered' disagrees with the label's class 'real'"):
        ManifestTask(file="wrong.csv", fake_is=1).load(root)
    (root / "missing.csv").write_text("image,label\nimgs/a.png,0\nimgs/zz.png,1\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"record line 3: image file not found"):
        ManifestTask(file="missing.csv", fake_is=1).load(root)
    task = ManifestTask(file="missing.csv", fake_is=1, skip_missing=True)
    assert [s.id for s in task.load(root)] == ["imgs/a.png"] and task.load_report()["counts"] == {"missing_images": 1}
    (root / "nolabel.csv").write_text("image,kind\nimgs/a.png,x\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"missing column\(s\) \['label'\]"):
        ManifestTask(file="nolabel.csv", fake_is=1).load(root)
    with pytest.raises(FdrbenchError, match="needs --task-arg file="):
        ManifestTask(fake_is=1).load(root)


# --------------------------------------------------------------------------- hf


@pytest.mark.parametrize("names", [("real", "fake"), ("fake", "real"), ("nature", "ai")])
def test_hf_local_parquet_reads_the_classlabel_names(tmp_path, names):
    root = hf_mini.build_parquet(tmp_path / "d", names=names)
    task = HFImagesTask(group_columns="source", id_column="uid")
    samples = task.load(root)
    assert [(s.id, s.label) for s in samples] == [("img-000", REAL), ("img-001", FAKE), ("img-002", FAKE), ("img-003", REAL)]
    assert samples[1].group == {"generator": "SDXL", "source": "web"} and samples[0].group == {"source": "flickr"}
    assert samples[1].load_image().size == (8, 8)
    assert samples[0].truth().content.startswith("files:")
    assert task.group_keys == ("generator", "source")


def test_hf_bare_integer_labels_need_a_declared_polarity(tmp_path):
    root = hf_mini.build_parquet(tmp_path / "d", names=None)
    with pytest.raises(FdrbenchError, match="label polarity must be declared, never guessed"):
        HFImagesTask().load(root)
    assert [s.label for s in HFImagesTask(fake_is=1).load(root)] == [REAL, FAKE, FAKE, REAL]
    assert [s.label for s in HFImagesTask(label_map="0:fake,1:real").load(root)] == [FAKE, REAL, REAL, FAKE]


def test_hf_saved_to_disk(tmp_path):
    both = hf_mini.build_saved(tmp_path / "dict")
    assert len(HFImagesTask().load(both, "train")) == 4
    assert HFImagesTask().load(both)[1].load_image().size == (8, 8)
    with pytest.raises(DataError, match=r"has no split 'validation' \(it has \['test', 'train'\]\)"):
        HFImagesTask().load(both, "validation")
    one = hf_mini.build_saved(tmp_path / "one", splits=None)
    samples = HFImagesTask(revision="v1.0").load(one)
    assert [s.label for s in samples] == [REAL, FAKE, FAKE, REAL] and samples[0].truth().content == "one@v1.0"


def test_hf_hub_revision_is_pinned_into_the_fingerprint(tmp_path, monkeypatch):
    cache = tmp_path / "hub"
    first, second = "1" * 40, "2" * 40
    hf_mini.build_hub_cache(cache, "someone/tiny-fakes", first)
    hf_mini.build_hub_cache(cache, "someone/tiny-fakes", second)
    monkeypatch.setenv("HF_HUB_CACHE", str(cache))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    a = HFImagesTask(dataset="someone/tiny-fakes", revision=first).load()
    b = HFImagesTask(dataset="someone/tiny-fakes", revision=second).load()
    assert a[0].truth().content == f"hf:someone/tiny-fakes@{first}"
    assert [s.id for s in a] == [s.id for s in b] and [s.label for s in a] == [s.label for s in b]
    assert fingerprint_samples(a) != fingerprint_samples(b)
    with pytest.raises(FdrbenchError, match="must be a Hub dataset id"):
        HFImagesTask(dataset="not-an-id")


def test_hf_unreadable_image_is_that_samples_error(tmp_path):
    root = hf_mini.build_parquet(tmp_path / "d", broken=2)
    samples = HFImagesTask().load(root)
    with pytest.raises(DataError, match=r"data/test-00000-of-00001.parquet#2: 'image' is not a readable image"):
        samples[2].load_image()


# --------------------------------------------------------------------------- data check on all three


def test_data_check_on_every_own_data_task(tmp_path):
    folder = folder_mini.build_generators(tmp_path / "f")
    report = check_task("folder", folder, show_progress=False)
    assert report["ok"] and report["splits"][0]["n"] == 6 and report["splits"][0]["with_mask"] == 2
    manifest_mini.build(tmp_path / "m")
    report = check_task("manifest", tmp_path / "m", task_args={"file": "labels.csv", "fake_is": 1}, show_progress=False)
    assert report["ok"] and report["splits"][0]["by_label"] == {"real": 2, "fake": 2}
    hf = hf_mini.build_parquet(tmp_path / "h", broken=1)
    report = check_task("hf", hf, task_args={"group_columns": "source"}, show_progress=False)
    split = report["splits"][0]
    assert not report["ok"] and split["unreadable_images"] == 1 and split["by_group"]["source"]["web"] == {"n": 2, "real": 0, "fake": 2}
