"""The demo benchmark: reproducible bytes, MMFR layout, labels, classes, masks and references."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from fdrbench.tasks.demo import DemoTask
from fdrbench.tasks.demo import synth as demo_synth
from fdrbench.tasks.mmfr import MMFREval
from fdrbench.tasks.mmfr.loader import AUTHENTIC_ATTRIBUTES, FORGERY_ATTRIBUTES, reference_text
from fdrbench.tasks.mmfr.task import PROMPT


def test_same_seed_same_bytes(demo_root, tmp_path):
    again = demo_synth.build(tmp_path / "demo", show_progress=False)
    first = json.loads((demo_root / demo_synth.BUILD_FILE).read_text())
    second = json.loads((again / demo_synth.BUILD_FILE).read_text())
    assert first["files"] == second["files"]
    assert len(first["files"]) > 600


def test_layout_is_mmfrs(demo_root):
    test = demo_root / "test" / "evaluation_sets"
    for kind in demo_synth.SETS:
        assert len(list((test / kind / "0_real").glob("*.png"))) == 40
        assert len(list((test / kind / "1_fake").glob("*.png"))) == 40
        reasoning = json.loads((test / kind / f"{kind}_reasoning.json").read_text())
        assert len(reasoning) == 80
        assert all(key.startswith(f"{kind}/0_real/") or key.startswith(f"{kind}/1_fake/") for key in reasoning)
    assert len(list((test / "tampered" / "masks").glob("*_mask.png"))) == 40
    assert not (test / "gan" / "masks").exists()


def test_demo_task_counts_labels_classes_and_masks(demo_root):
    samples = DemoTask().load(demo_root, "test")
    assert len(samples) == 240
    assert sum(s.label for s in samples) == 120
    assert {s.group["generator"] for s in samples} == {"gan", "diffusion", "tampered"}
    by_cls = {c: sum(1 for s in samples if s.cls == c) for c in ("real", "full_synthetic", "tampered")}
    assert by_cls == {"real": 120, "full_synthetic": 80, "tampered": 40}
    tampered = [s for s in samples if s.cls == "tampered"]
    assert all(s.mask is not None for s in tampered)
    assert all(s.mask is None for s in samples if s.cls != "tampered")
    mask = tampered[0].load_mask()
    assert mask.shape == (128, 128) and 0.04 < mask.mean() < 0.25
    assert len(DemoTask().load(demo_root, "train")) == 360


def test_references_follow_mmfr_schema(demo_root):
    samples = DemoTask().load(demo_root, "test")
    fake = next(s for s in samples if s.label == 1)
    real = next(s for s in samples if s.label == 0)
    assert set(fake.reference.parts["attributes"]) == set(FORGERY_ATTRIBUTES)
    assert set(AUTHENTIC_ATTRIBUTES) <= set(real.reference.parts["attributes"])
    attrs = fake.reference.parts["attributes"]
    assert fake.reference.text == " ".join(attrs[k] for k in sorted(attrs) if attrs[k] is not None)
    extra = [s for s in DemoTask().load(demo_root, "train") if "Natural Color Distribution" in s.reference.parts.get("attributes", {})]
    assert extra, "some real entries carry a non-canonical key, as MMFR's do"


def test_reference_text_rule():
    attrs = {"b": "second", "A": "first", "c": None, "a": "third"}
    assert reference_text(attrs) == "first third second"  # case-sensitive sort: 'A' < 'a' < 'b'


def test_mmfr_loader_reads_the_demo_test_split(demo_root):
    samples = MMFREval().load(demo_root / "test")
    assert len(samples) == 240
    assert samples[0].id.count("/") == 2
    assert samples[0].image_ref.startswith("evaluation_sets/")
    assert MMFREval.prompt == PROMPT


def test_training_cot_file(demo_root):
    items = json.loads((demo_root / "train" / "forgery_reasoning_cot.json").read_text())
    assert len(items) == 360
    item = items[0]
    assert (demo_root / "train" / item["image"]).is_file()
    human, gpt = item["conversations"]
    assert human["from"] == "human" and human["value"] == "<image>\n" + PROMPT
    assert gpt["from"] == "gpt"
    for tag in ("SUMMARY", "CAPTION", "REASONING", "CONCLUSION"):
        assert f"<{tag}>" in gpt["value"] and f"</{tag}>" in gpt["value"]
    verdicts = {"real" if "This image is real." in i["conversations"][1]["value"] else "fake" for i in items}
    assert verdicts == {"real", "fake"}


def test_generators_leave_their_traces():
    rng = np.random.default_rng(0)
    photos = demo_synth.load_photos()
    src = demo_synth.random_crop(photos[0], rng)
    gan = demo_synth.gan_like(src, np.random.default_rng(1))
    diff = demo_synth.diffusion_like(src, np.random.default_rng(1))

    def nyquist_power(img):
        g = img.mean(axis=2)
        spec = np.abs(np.fft.fft2(g - g.mean())) ** 2
        return spec[64, 0] + spec[0, 64] + spec[64, 64]

    def highpass(img):
        g = img.mean(axis=2)
        return np.abs(np.diff(g, axis=0)).mean() + np.abs(np.diff(g, axis=1)).mean()

    assert nyquist_power(gan) > 20 * nyquist_power(src)
    assert highpass(diff) < highpass(src)
    image, mask = demo_synth.tamper(src, photos[1], np.random.default_rng(2))
    assert mask.any() and np.abs(image[~mask] - src[~mask]).max() < 0.35
    assert np.abs(image[mask] - src[mask]).mean() > 0.02


def test_build_refuses_a_foreign_folder(tmp_path):
    target = tmp_path / "mine"
    target.mkdir()
    (target / "precious.txt").write_text("keep me")
    with pytest.raises(Exception, match="not a demo build"):
        demo_synth.build(target, show_progress=False)
    assert (target / "precious.txt").exists()


def test_demo_images_are_rgb_pngs(demo_root):
    path = next((demo_root / "test" / "evaluation_sets" / "gan" / "1_fake").glob("*.png"))
    with Image.open(path) as img:
        assert img.format == "PNG" and img.mode == "RGB" and img.size == (128, 128)
