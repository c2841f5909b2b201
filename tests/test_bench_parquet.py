"""So-Fake-OOD and SID-Set: parquet and folder releases, label maps read from the data, masks, the Hub."""

from __future__ import annotations

import shutil
import socket
import time

import numpy as np
import pytest
from PIL import Image

from fdrbench.errors import DataError, FdrbenchError
from fdrbench.tasks.common import parquet
from fdrbench.tasks.common.masks import BinaryMask
from fdrbench.tasks.common.miniature import image_bytes, mask_bytes, write_image
from fdrbench.tasks.sidset import SIDSet
from fdrbench.tasks.sidset.miniature import build_folders as build_sidset_folders
from fdrbench.tasks.sidset.miniature import build_parquet as build_sidset_parquet
from fdrbench.tasks.sidset.task import PROMPT as SID_PROMPT
from fdrbench.tasks.sofake import SoFakeOOD
from fdrbench.tasks.sofake.loader import normalise_generator
from fdrbench.tasks.sofake.miniature import build as build_sofake

EXPECTED_SOFAKE = {
    "reddit_00001.jpg": "real",
    "reddit_00002.jpg": "real",
    "full_synthetic_00001.png": "full_synthetic",
    "full_synthetic_00002.png": "full_synthetic",
    "part1_09462_openai_tampered.png": "tampered",
    "part1_00007_flux_tampered.png": "tampered",
}
#: the square of the fixture masks minus its one anti-aliased (200) pixel
MASK_SQUARE = np.zeros((8, 8), dtype=bool)
MASK_SQUARE[2:6, 2:6] = True


@pytest.mark.parametrize("version", ["v1", "v2"])
def test_sofake_both_label_maps_load_right(tmp_path, version):
    root = build_sofake(tmp_path / version, version)
    samples = SoFakeOOD().load(root)
    assert {s.id: s.cls for s in samples} == EXPECTED_SOFAKE
    assert [s.label for s in samples] == [0, 0, 1, 1, 1, 1]
    assert samples[0].meta["label_names_source"].endswith("(parquet features metadata)")
    tampered = samples[4]
    assert tampered.image_ref == "data/test-00000-of-00001.parquet#4"
    assert tampered.load_image().size == (8, 8)
    mask = tampered.load_mask()
    assert mask.shape == (8, 8) and mask.sum() == 16  # > 127: the anti-aliased pixel counts
    assert all(s.mask is None for s in samples if s.cls != "tampered")


def test_sofake_generator_groups(tmp_path):
    v2 = SoFakeOOD().load(build_sofake(tmp_path / "v2", "v2"))
    assert [s.group["generator"] for s in v2] == ["real", "real", "seedream3.0", "gpt4o", "openai", "ideogram3.0"]
    assert v2[5].meta["generator_raw"] == "Ideogram 3.0" and v2[2].group["source"] == "EarthPorn"
    v1 = SoFakeOOD().load(build_sofake(tmp_path / "v1", "v1"))
    assert [s.group["generator"] for s in v1] == ["real", "real", "unknown", "unknown", "openai", "flux"]
    assert normalise_generator(" GPT-4o ") == "gpt4o"


def test_sofake_label_names_from_card_or_option(tmp_path):
    root = build_sofake(tmp_path / "bare", "v1", metadata=False)
    samples = SoFakeOOD().load(root)
    assert {s.id: s.cls for s in samples} == EXPECTED_SOFAKE
    assert samples[0].meta["label_names_source"].endswith("(dataset card)")
    (root / "README.md").unlink()
    with pytest.raises(DataError, match="cannot tell which class each label integer means") as info:
        SoFakeOOD().load(root)
    assert "label_names=" in str(info.value)
    given = SoFakeOOD(label_names="full_synthetic,real,tampered").load(root)
    assert {s.id: s.cls for s in given} == EXPECTED_SOFAKE
    with pytest.raises(FdrbenchError, match="must name the three classes"):
        SoFakeOOD(label_names="real,fake").load(root)


def test_label_names_agree_with_datasets(tmp_path):
    import datasets

    for version in ("v1", "v2"):
        root = build_sofake(tmp_path / version, version)
        files = parquet.find_parquet_files(root, "test")
        loaded = datasets.load_dataset("parquet", data_files=[str(f) for f in files], split="train", cache_dir=str(tmp_path / "hf"))
        names, _ = parquet.label_names(files, None)
        assert names == loaded.features["label"].names


def test_sofake_missing_data_and_bad_labels(tmp_path):
    with pytest.raises(DataError, match="no parquet files for split 'test'"):
        SoFakeOOD().load(tmp_path)
    root = tmp_path / "junk"
    (root / "data").mkdir(parents=True)
    (root / "data" / "test-00000-of-00001.parquet").write_bytes(b"not parquet")
    with pytest.raises(DataError, match="not a readable parquet file"):
        SoFakeOOD().load(root)


def test_unreadable_image_bytes_name_the_row(tmp_path):
    import datasets

    features = datasets.Features(
        {
            "image": datasets.Image(),
            "label": datasets.ClassLabel(names=["real", "tampered", "full_synthetic"]),
            "mask": datasets.Image(),
            "filename": datasets.Value("string"),
        }
    )
    good = image_bytes()
    data = {
        "image": [{"bytes": good, "path": None}, {"bytes": good[:20], "path": None}],
        "label": [0, 2],
        "mask": [None, None],
        "filename": ["a.jpg", "b.png"],
    }
    path = tmp_path / "data" / "test-00000-of-00001.parquet"
    path.parent.mkdir(parents=True)
    datasets.Dataset.from_dict(data, features=features).to_parquet(str(path))
    samples = SoFakeOOD().load(tmp_path)
    assert samples[0].load_image().size == (8, 8)
    with pytest.raises(DataError, match=r"record b.png: 'image' is not a readable image"):
        samples[1].load_image()


def test_sidset_folders(tmp_path):
    root = build_sidset_folders(tmp_path / "sid")
    task = SIDSet()
    with pytest.warns(UserWarning, match="1 tampered without mask dropped"):
        samples = task.load(root)
    assert [(s.id, s.cls, s.label) for s in samples] == [
        ("real/0a1b2c3d4e5f6a7b", "real", 0),
        ("real/9f2c2560a72d603c", "real", 0),
        ("full_synthetic/full_synthetic_063970", "full_synthetic", 1),
        ("tampered/tampered_00002", "tampered", 1),
        ("tampered/tampered_29551", "tampered", 1),
    ]
    assert samples[4].image_ref == "test/tampered/tampered_29551.png"
    assert samples[4].reference.text == "The cup on the table was replaced."
    # X.png <-> masks/X_mask.png, on SIDA's grid (16 x 12 -> 1024 x 768, 64 px per mask pixel): only
    # 255 after the bilinear resize is foreground, so the anti-aliased 200 pixel at (2, 2) is not
    mask = samples[4].load_mask()
    assert mask.shape == (768, 1024) and mask[300, 300] and not mask[170, 170] and not mask[150, 300]
    assert mask[160:352, 224:352].all() and not mask[:160].any() and not mask[352:].any()
    # a half-resolution mask (8 x 6) lands on the same grid
    small = samples[3].load_mask()
    assert small.shape == (768, 1024) and small[600, 600] and not small[:300].any() and not small[:, :300].any()
    assert task.prompt == SID_PROMPT
    with pytest.warns(UserWarning, match="1 tampered without mask kept"):
        assert len(SIDSet(missing_mask="keep").load(root)) == 6
    with pytest.raises(DataError, match="tampered_nomask.png: tampered image has no mask"):
        SIDSet(missing_mask="error").load(root)
    with pytest.warns(UserWarning):
        assert len(SIDSet().load(root, "validation")) == 5
    with pytest.raises(DataError, match="no train/ folder and no parquet files"):
        SIDSet().load(root, "train")


def test_sidset_folder_needs_all_classes(tmp_path):
    root = build_sidset_folders(tmp_path / "sid", splits=("test",))
    shutil.rmtree(root / "test" / "full_synthetic")
    with pytest.raises(DataError, match=r"missing class folder\(s\) \['full_synthetic'\]"):
        SIDSet().load(root)


def test_sidset_parquet(tmp_path):
    root = build_sidset_parquet(tmp_path / "hf")
    with pytest.warns(UserWarning, match="tampered without mask dropped"):
        samples = SIDSet().load(root, "validation")
    assert [(s.id, s.cls, s.label) for s in samples] == [
        ("real/9f2c2560a72d603c", "real", 0),
        ("full_synthetic/full_synthetic_063970", "full_synthetic", 1),
        ("tampered/tampered_29551", "tampered", 1),
    ]
    assert samples[2].image_ref == "data/validation-00000-of-00001.parquet#2"
    assert samples[2].load_image().size == (16, 12)
    mask, decoded = samples[2].load_mask_info()
    assert mask.shape == (768, 1024) and mask[300, 300] and not mask[170, 170]
    assert decoded == {"rule": "bilinear to longest side 1024, then == 255", "values": "{0, 200, 255}"}


def test_sidset_parquet_unknown_label(tmp_path):
    import datasets

    features = datasets.Features({"img_id": datasets.Value("string"), "image": datasets.Image(), "label": datasets.Value("int64")})
    path = tmp_path / "data" / "validation-00000-of-00001.parquet"
    path.parent.mkdir(parents=True)
    datasets.Dataset.from_dict(
        {"img_id": ["a"], "image": [{"bytes": image_bytes(), "path": None}], "label": [3]}, features=features
    ).to_parquet(str(path))
    with pytest.raises(DataError, match=r"record data/validation-00000-of-00001.parquet#0: unknown label 3"):
        SIDSet().load(tmp_path, "validation")


def test_mask_rules(tmp_path):
    path = tmp_path / "m.png"
    path.write_bytes(mask_bytes())
    eq = BinaryMask("r", "eq255", path=str(path))()
    gt = BinaryMask("r", "gt127", path=str(path))()
    assert (gt == MASK_SQUARE).all()
    expected_eq = MASK_SQUARE.copy()
    expected_eq[2, 2] = False
    assert (eq == expected_eq).all()
    write_image(tmp_path / "img.png", size=(16, 16))
    assert BinaryMask("r", "eq255", path=str(path), image_path=str(tmp_path / "img.png"))().shape == (16, 16)
    # the values rule: a two-valued {0, v} mask has foreground v, whatever v is
    figure_like = tmp_path / "gray100.png"
    figure_like.write_bytes(mask_bytes(value=100))  # {0, 100, 200}: three values, cut at 100
    three, info = BinaryMask("r", "values", path=str(figure_like)).decode()
    assert info == {"rule": "> 100", "values": "{0, 100, 200}"} and three.sum() == 1
    two = tmp_path / "two.png"
    Image.fromarray(np.where(MASK_SQUARE, 100, 0).astype(np.uint8)).save(two)
    mask, info = BinaryMask("r", "values", path=str(two)).decode()
    assert (mask == MASK_SQUARE).all() and info == {"rule": "== 100", "values": "{0, 100}"}
    assert BinaryMask("r", "gt127", path=str(two))().sum() == 0  # what a fixed threshold would make of it
    zeros = tmp_path / "zeros.png"
    Image.fromarray(np.zeros((4, 4), dtype=np.uint8)).save(zeros)
    assert BinaryMask("r", "values", path=str(zeros)).decode()[1]["rule"] == "empty (all zero)"
    with pytest.raises(DataError, match="mask file not found"):
        BinaryMask("r", path=str(tmp_path / "none.png"))()


def test_sida_masks_are_resized_to_1024_before_keeping_255():
    """SIDA resizes the gray mask (bilinear) and then keeps == 255; doing it the other way round differs.

    A 2048 x 2 mask whose left 1024 columns are 255 goes to 1024 x 1: output column x averages
    columns 2x-1 .. 2x+2 with weights 1/8, 3/8, 3/8, 1/8, so it is exactly 255 for x <= 510 and
    223 at x = 511 (one eighth of zero). Keeping 255 first and then resizing keeps x = 511 too.
    """
    import io

    gray = np.zeros((2, 2048), dtype=np.uint8)
    gray[:, :1024] = 255
    buffer = io.BytesIO()
    Image.fromarray(gray).save(buffer, format="PNG")

    class Cell:
        def open(self):
            return Image.open(io.BytesIO(buffer.getvalue()))

    mask, info = BinaryMask("r", "eq255", cell=Cell(), longest_side=1024).decode()
    assert mask.shape == (1, 1024) and int(mask.sum()) == 511 and mask[0, :511].all()
    assert info["rule"] == "bilinear to longest side 1024, then == 255"


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_hub_offline_fails_fast_with_instructions(tmp_path, monkeypatch):
    for name in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "empty-cache"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    start = time.monotonic()
    with pytest.raises(
        DataError, match=r"cannot get Hub dataset 'saberzl/So-Fake-OOD' \(offline and not in the Hugging Face cache\)"
    ) as info:
        SoFakeOOD(hub=True).load(tmp_path / "unused")
    assert "huggingface-cli download saberzl/So-Fake-OOD --repo-type dataset" in str(info.value)
    assert "--data-dir" in str(info.value)
    # no offline flag, but the endpoint does not answer (a closed local port): same, within seconds
    monkeypatch.delenv("HF_HUB_OFFLINE")
    monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{_closed_port()}")
    with pytest.raises(DataError, match="cannot get Hub dataset 'saberzl/SID_Set'"):
        SIDSet(hub=True).load(None, "validation")
    assert time.monotonic() - start < 20
    with pytest.raises(FdrbenchError, match="must be true or a Hub dataset id"):
        SIDSet(hub="not-an-id").load(None, "validation")


def test_hub_snapshot_in_the_cache_is_read_offline(tmp_path, monkeypatch):
    """A dataset already in the Hugging Face cache loads with no network, through the same parquet reader."""
    cache = tmp_path / "hub-cache"
    commit = "0123456789abcdef0123456789abcdef01234567"
    repo = cache / "datasets--someone--tiny-sofake"
    (repo / "refs").mkdir(parents=True)
    (repo / "refs" / "main").write_text(commit)
    build_sofake(repo / "snapshots" / commit, "v2")
    monkeypatch.setenv("HF_HUB_CACHE", str(cache))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    samples = SoFakeOOD(hub="someone/tiny-sofake").load()
    assert {s.id: s.cls for s in samples} == EXPECTED_SOFAKE
    assert samples[4].load_mask().sum() == 16


def test_sofake_masks_drawn_in_gray_100_keep_their_region(tmp_path):
    """The release's figures show tampered regions near gray 100: a > 127 threshold would empty them."""
    root = build_sofake(tmp_path / "sf", mask={"value": 100, "edge": None})
    tampered = [s for s in SoFakeOOD().load(root) if s.cls == "tampered"]
    for sample in tampered:
        mask, decoded = sample.load_mask_info()
        assert (mask == MASK_SQUARE).all() and decoded == {"rule": "== 100", "values": "{0, 100}"}
        assert sample.truth().mask["decoded"] == decoded
