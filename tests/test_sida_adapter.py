"""The ``sida`` / ``sida_description`` detectors on a tiny checkpoint in the released layout, and end to end."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from fdrbench.adapters.sida import prompts
from fdrbench.adapters.sida.adapter import SidaDescriptionDetector, SidaDetector
from fdrbench.adapters.sida.text import clean, description, remove_repeated_tags
from fdrbench.detector import RunContext
from fdrbench.errors import FdrbenchError
from fdrbench.store import iter_records
from fdrbench.tasks.sidset import SIDSet
from fdrbench.types import TERNARY_CLASSES, decode_mask

from .conftest import run_cli
from .helpers.sida_task import build
from .helpers.sida_tiny import write_checkpoint

TAMPERED_SCRIPT = [":", "[CLS]", "The", "image", "is", "tampered", "[SEG]", "edges", "look", "blurred", "[END]", "</s>"]
REAL_SCRIPT = [":", "[CLS]", "The", "image", "is", "real", "lighting", "mismatch", "[END]", "</s>"]
NO_CLS_SCRIPT = [":", "The", "image", "is", "real", "</s>"]
TASK = "sidset"


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    return build(tmp_path_factory.mktemp("sidset-like"))


@pytest.fixture(scope="module")
def tampered(tmp_path_factory):
    """Every image tampered (class bias), and a language model that writes TAMPERED_SCRIPT."""
    return write_checkpoint(tmp_path_factory.mktemp("sida-tampered"), class_bias=(0, 0, 20), script=TAMPERED_SCRIPT)


@pytest.fixture(scope="module")
def real(tmp_path_factory):
    return write_checkpoint(tmp_path_factory.mktemp("sida-real"), class_bias=(20, 0, 0), script=REAL_SCRIPT)


def ready(detector, checkpoint, task=None):
    detector.setup(RunContext(task=task or SIDSet()))
    return detector


def samples(data):
    return SIDSet().load(data)


def image_size(sample):
    width, height = Image.open(sample.image).size
    return [height, width]


def test_settings_are_checked_before_loading():
    with pytest.raises(FdrbenchError, match="mode must be one of teacher_forced, generate"):
        SidaDetector(mode="beam")
    with pytest.raises(FdrbenchError, match="mask_from=truth needs mode=teacher_forced"):
        SidaDetector(mode="generate", mask_from="truth")
    with pytest.raises(FdrbenchError, match="class_from=text needs mode=generate"):
        SidaDetector(class_from="text")
    with pytest.raises(FdrbenchError, match="mask_from must be predicted or truth"):
        SidaDetector(mask_from="always")
    with pytest.raises(FdrbenchError, match="max_new_tokens must be positive"):
        SidaDescriptionDetector(max_new_tokens=0)
    described = SidaDescriptionDetector().describe()
    assert described["mode"] == "generate" and described["weights"] == "saberzl/SIDA-7B-description"
    assert described["prompt"] == prompts.QUESTIONS["description"]["train"] and described["template"] == "llava_v1"
    assert set(described["modes"]) == {"teacher_forced", "generate"}
    assert SidaDetector().describe()["mode"] == "teacher_forced"


def test_teacher_forced_gives_probabilities_and_masks_at_image_size(tampered, data):
    detector = ready(SidaDetector(weights=str(tampered.folder), sam=str(tampered.sam)), tampered)
    batch = samples(data)
    predictions = detector.predict(batch)
    assert [p.sample_id for p in predictions] == [s.id for s in batch]
    for sample, pred in zip(batch, predictions, strict=True):
        assert pred.cls == "tampered" and pred.label == 1 and pred.parse_ok
        assert tuple(pred.class_probs) == TERNARY_CLASSES and sum(pred.class_probs.values()) == pytest.approx(1.0)
        assert pred.p_fake == pytest.approx(1 - pred.class_probs["real"])
        assert pred.mask["size"] == image_size(sample)
        assert decode_mask(pred.mask).shape == tuple(image_size(sample))
        assert pred.explanation == prompts.CANNED["tampered"] and pred.raw_output is None
        assert pred.extra["cls_logits"] == [0.0, 0.0, 20.0] and pred.extra["class_source"] == "head"
    described = detector.describe()
    assert described["teacher_forced_answer"] == "[CLS] The image is tampered [SEG]"
    assert described["config"]["out_dim"] == 16 and described["weights_fingerprint"]
    half = ready(SidaDetector(weights=str(tampered.folder), sam=str(tampered.sam), dtype="bfloat16"), tampered)
    assert half.describe()["dtype"] == "bfloat16" and half.describe()["dtype_requested"] == "bfloat16"
    assert "float16 on GPU" in half.describe()["dtype_auto"]
    for full, reduced in zip(predictions, half.predict(batch), strict=True):
        assert reduced.cls == full.cls and reduced.mask["size"] == full.mask["size"]
        assert reduced.class_probs["tampered"] == pytest.approx(full.class_probs["tampered"], abs=1e-2)


def test_images_are_turned_upright_by_exif_as_opencv_reads_them(tampered, tmp_path):
    from fdrbench.types import Sample

    # 40 x 20 stored pixels whose EXIF orientation 6 says: turn 90 degrees clockwise to display
    pixels = np.zeros((20, 40, 3), dtype=np.uint8)
    pixels[:, :10] = (250, 30, 30)
    pixels[:5] = (20, 200, 40)
    stored = Image.fromarray(pixels)
    exif = stored.getexif()
    exif[0x0112] = 6
    rotated_path = tmp_path / "rotated.jpg"
    stored.save(rotated_path, exif=exif, quality=95)
    with Image.open(rotated_path) as handle:
        decoded = np.asarray(handle.convert("RGB"))
    upright_path = tmp_path / "upright.png"
    Image.fromarray(np.ascontiguousarray(np.rot90(decoded, k=-1))).save(upright_path)

    def sample(name, path):
        return Sample(id=name, label=1, cls="tampered", image=path)

    detector = ready(SidaDetector(weights=str(tampered.folder), sam=str(tampered.sam)), tampered)
    rotated, upright = detector.predict([sample("r", rotated_path), sample("u", upright_path)])
    assert rotated.mask["size"] == [40, 20] == upright.mask["size"]
    assert rotated.mask == upright.mask
    assert "OpenCV" in detector.describe()["exif_orientation"]
    ignoring = ready(SidaDetector(weights=str(tampered.folder), sam=str(tampered.sam), exif="ignore"), tampered)
    (as_stored,) = ignoring.predict([sample("r", rotated_path)])
    assert as_stored.mask["size"] == [20, 40]
    with pytest.raises(FdrbenchError, match="exif must be apply or ignore"):
        SidaDetector(exif="rotate")


def test_binary_benchmarks_read_the_binary_view(tampered, demo_root, tmp_path):
    from fdrbench.pipeline import RunConfig, run

    args = {"weights": str(tampered.folder), "sam": str(tampered.sam), "mask_from": "truth"}
    config = RunConfig(model="sida", task="mmfr_eval", model_args=args, data_dir=demo_root / "test", limit=8, out=tmp_path, device="cpu")
    config.n_boot, config.show_progress = 20, False
    result = run(config)
    records = [record for _, record in iter_records(result.run_dir / "predictions.jsonl")]
    assert len(records) == 8 and all(r["label"] == 1 and r["truth"]["cls"] is None for r in records)
    # no true class here, so mask_from=truth falls back to the predicted one (tampered): every image gets a mask
    assert all(r["mask"]["size"] == list(Image.open(demo_root / "test" / r["truth"]["image"]).size[::-1]) for r in records)
    assert result.scores.to_json()["protocols"]["strict"]["overall"]["fake_accuracy"]["value"] == 1.0


def test_masks_follow_the_predicted_class_or_the_truth(real, data):
    batch = samples(data)
    predicted = ready(SidaDetector(weights=str(real.folder), sam=str(real.sam)), real).predict(batch)
    assert [p.cls for p in predicted] == ["real"] * 6 and all(p.mask is None for p in predicted)
    assert all(p.label == 0 and p.p_fake == pytest.approx(2 * np.exp(-20) / (1 + 2 * np.exp(-20))) for p in predicted)
    truth = ready(SidaDetector(weights=str(real.folder), sam=str(real.sam), mask_from="truth"), real).predict(batch)
    assert [p.cls for p in truth] == ["real"] * 6
    assert [p.mask is not None for p in truth] == [s.cls == "tampered" for s in batch]


def test_generation_reads_class_mask_and_explanation_from_the_answer(tampered, data):
    detector = ready(SidaDescriptionDetector(weights=str(tampered.folder), sam=str(tampered.sam), max_new_tokens=20), tampered)
    sample = samples(data)[4]
    (pred,) = detector.predict([sample])
    assert pred.raw_output == "[CLS] The image is tampered [SEG] edges look blurred [END] </s>"
    assert pred.explanation == "edges look blurred"
    assert pred.cls == "tampered" and pred.n_tokens == 11 and pred.mask["size"] == image_size(sample)
    assert pred.extra["head_cls"] == "tampered" and pred.extra["text_cls"] == "tampered"
    assert pred.extra["class_source"] == "head"  # the paper protocol keeps it over the text
    assert pred.extra["n_cls"] == 1 and pred.extra["n_seg"] == 1
    assert detector.describe()["generation"] == {"do_sample": False, "num_beams": 1, "max_new_tokens": 20}
    short = ready(SidaDescriptionDetector(weights=str(tampered.folder), sam=str(tampered.sam), max_new_tokens=3), tampered)
    (cut,) = short.predict([sample])
    assert cut.raw_output == "[CLS] The image" and cut.n_tokens == 3 and cut.mask is None  # no [SEG] written


def test_generation_of_the_base_model_shows_the_canned_text(real, data):
    detector = ready(SidaDetector(weights=str(real.folder), sam=str(real.sam), mode="generate"), real)
    (pred,) = detector.predict(samples(data)[:1])
    assert pred.cls == "real" and pred.mask is None
    assert pred.raw_output == "[CLS] The image is real lighting mismatch [END] </s>"
    assert pred.explanation == prompts.CANNED["real"]
    described = ready(SidaDescriptionDetector(weights=str(real.folder), sam=str(real.sam)), real).predict(samples(data)[:1])[0]
    assert described.explanation == "lighting mismatch"


def test_the_chat_prompt_carries_its_own_cls(tampered, data):
    detector = ready(SidaDetector(weights=str(tampered.folder), sam=str(tampered.sam), mode="generate", prompt="chat"), tampered)
    (pred,) = detector.predict(samples(data)[:1])
    assert pred.extra["n_cls"] == 2 and pred.cls == "tampered"  # the class of the last [CLS]
    assert detector.describe()["prompt_name"] == "chat"


def test_an_answer_without_cls_is_a_parse_failure_unless_read_as_text(tmp_path, data):
    checkpoint = write_checkpoint(tmp_path, class_bias=(0, 20, 0), script=NO_CLS_SCRIPT)
    (pred,) = ready(SidaDescriptionDetector(weights=str(checkpoint.folder), sam=str(checkpoint.sam)), checkpoint).predict(samples(data)[:1])
    assert pred.raw_output == "The image is real </s>"
    assert not pred.parse_ok and pred.failed and pred.label is None and pred.class_probs is None
    assert pred.extra["text_cls"] == "real"
    texts = ready(SidaDescriptionDetector(weights=str(checkpoint.folder), sam=str(checkpoint.sam), class_from="text"), checkpoint)
    (pred,) = texts.predict(samples(data)[:1])
    assert pred.cls == "real" and pred.label == 0 and pred.parse_ok and pred.p_fake is None
    assert pred.extra["class_source"] == "text"


def test_description_text_is_read_as_the_chat_script_prints_it():
    assert clean("<s> [CLS] The\nimage  is</s>") == "[CLS] Theimage is"
    assert remove_repeated_tags("Type: x <lighting> dim <lighting> dim <edges> sharp") == "Type: x <lighting> dim <edges> sharp"
    assert remove_repeated_tags("no tags here") == "no tags here"
    answer = "[CLS] The image is tampered.[SEG] Type: part <lighting> dim <lighting> dim <edges> sharp [end]</s>"
    assert description(answer) == "Type: part <lighting> dim <edges> sharp"
    assert description("[CLS] The image is real [END]") is None
    assert description("[CLS] This image is classified as full synthetic. It appears entirely artificially generated.") == (
        "It appears entirely artificially generated."
    )
    assert description("nothing structured") == "nothing structured"


def run_sida(model, checkpoint, data, out, *extra):
    """``fdrbench run`` in a subprocess on the SID-Set-shaped task; returns the run folder's contents."""
    args = ["--model-arg", f"weights={checkpoint.folder}", "--model-arg", f"sam={checkpoint.sam}", "--device", "cpu", "--n-boot", "20"]
    result = run_cli("run", "--model", model, "--task", TASK, "--data-dir", str(data), *args, *extra, "--out", str(out))
    assert result.returncode == 0, result.stderr
    return read_run(out)


def read_run(out):
    (run_dir,) = [p for p in out.glob("*/*/*") if p.is_dir()]
    records = [record for _, record in iter_records(run_dir / "predictions.jsonl")]
    manifest = json.loads((run_dir / "manifest.json").read_text())
    scores = json.loads((run_dir / "scores.json").read_text())
    return run_dir, records, manifest, scores


@pytest.mark.slow
def test_run_sida_end_to_end_on_sidset_shaped_data(tampered, data, tmp_path):
    run_dir, records, manifest, scores = run_sida("sida", tampered, data, tmp_path / "results", "--batch-size", "4")
    assert run_dir.parent.name == "sida" and len(records) == 6
    for record in records:
        assert record["cls"] == "tampered" and record["error"] is None
        assert record["p_fake"] == pytest.approx(1 - record["class_probs"]["real"])
        height, width = Image.open(data / record["truth"]["image"]).size[::-1]
        assert record["mask"]["size"] == [height, width]
        assert (record["truth"].get("mask") is not None) == (record["truth"]["cls"] == "tampered")
    described = manifest["adapter"]["describe"]
    assert described["mode"] == "teacher_forced" and described["variant"] == "sida"
    assert manifest["prompt"] == prompts.QUESTIONS["sida"]["train"]
    assert manifest["config"]["model_identity"]["weights_fingerprint"] == described["weights_fingerprint"]
    overall = scores["protocols"]["strict"]["overall"]
    assert overall["accuracy"]["value"] == pytest.approx(4 / 6)  # the two real images are called tampered
    assert overall["real_accuracy"]["value"] == 0.0 and overall["fake_accuracy"]["value"] == 1.0


@pytest.mark.slow
def test_run_sida_description_generating_end_to_end(real, data, tmp_path):
    _, records, manifest, scores = run_sida("sida_description", real, data, tmp_path / "results", "--model-arg", "max_new_tokens=16")
    assert {r["explanation"] for r in records} == {"lighting mismatch"}
    assert {r["cls"] for r in records} == {"real"} and all(r["mask"] is None for r in records)
    assert all(r["n_tokens"] == 9 for r in records)
    assert manifest["adapter"]["describe"]["mode"] == "generate"
    assert scores["protocols"]["strict"]["overall"]["accuracy"]["value"] == pytest.approx(2 / 6)
