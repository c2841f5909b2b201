"""Wrapping samples: laziness, determinism across calls, processes and sample order, provenance,
and a run through the infer stage with perturbed samples."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from fdrbench.fingerprints import fingerprint_samples
from fdrbench.perturb import PerturbedSample, describe, parse, perturb_sample, perturb_samples, perturbed_fingerprint, run_id_part
from fdrbench.types import FAKE, REAL, Reference, Sample

from .conftest import REPO

SPEC = "aigenbench/mandatory"


class CountingLoader:
    """An image loader that counts how often it is asked."""

    def __init__(self, seed: int, size=(64, 48)):
        self.calls = 0
        self.seed = seed
        self.size = size

    def __call__(self):
        self.calls += 1
        rng = np.random.default_rng(self.seed)
        return Image.fromarray(rng.integers(0, 256, (self.size[1], self.size[0], 3), dtype=np.uint8))


def digest(image: Image.Image) -> str:
    return hashlib.sha256(np.asarray(image).tobytes() + repr(image.size).encode()).hexdigest()


def samples_for(n: int, big: bool = False) -> list[Sample]:
    size = (1200, 900) if big else (96, 64)
    return [Sample(id=f"img-{i}", label=i % 2, image=CountingLoader(i, size)) for i in range(n)]


def test_wrapping_reads_nothing():
    base = samples_for(3)
    wrapped = list(perturb_samples(base, "jpeg:q=70+resize:f=0.5", seed=1))
    assert all(s.image.calls == 0 for s in base)
    [s.truth() for s in wrapped]  # no mask, no regions: the truth needs no pixels either
    assert all(s.image.calls == 0 for s in base)
    image = wrapped[0].load_image()
    assert base[0].image.calls == 1 and image.size == (48, 32)
    wrapped[0].load_image()
    assert base[0].image.calls == 1  # decoded once until released
    wrapped[0].release_image()
    wrapped[0].load_image()
    assert base[0].image.calls == 2


def test_wrapped_samples_keep_what_scoring_pairs_on():
    base = Sample(id="a", label=REAL, image=CountingLoader(0), group={"generator": "x"}, question="real?", meta={"k": 1})
    wrapped = perturb_sample(base, "fakevlm_t7/jpeg70")
    assert isinstance(wrapped, PerturbedSample) and wrapped.base is base
    assert (wrapped.id, wrapped.label, wrapped.group, wrapped.question, wrapped.meta) == ("a", REAL, {"generator": "x"}, "real?", {"k": 1})
    assert wrapped.perturbation.name == "fakevlm_t7/jpeg70"
    assert perturb_sample(base, None) is base
    with pytest.raises(ValueError, match="already perturbed"):
        perturb_sample(wrapped, "jpeg:q=50")


def test_the_same_sample_gets_the_same_perturbation_on_every_call_and_in_any_order():
    first = {s.id: digest(s.load_image()) for s in perturb_samples(samples_for(12, big=True), SPEC, seed=4)}
    again = {s.id: digest(s.load_image()) for s in perturb_samples(reversed(samples_for(12, big=True)), SPEC, seed=4)}
    shard = {s.id: digest(s.load_image()) for s in perturb_samples(samples_for(12, big=True)[1::3], SPEC, seed=4)}
    assert first == again and all(first[k] == v for k, v in shard.items())
    other_seed = {s.id: digest(s.load_image()) for s in perturb_samples(samples_for(12, big=True), SPEC, seed=5)}
    assert other_seed != first
    # the mix varies per sample: crops to 1080 always, then some samples get a 256-512 px square crop
    sizes = {s.load_image().size for s in perturb_samples(samples_for(12, big=True), SPEC, seed=4)}
    assert (1080, 900) in sizes and len(sizes) > 1 and all(w <= 1080 for w, _ in sizes)


@pytest.mark.slow
def test_the_same_sample_gets_the_same_perturbation_in_another_process():
    ids = [f"img-{i}" for i in range(6)]
    here = {s.id: digest(s.load_image()) for s in perturb_samples(samples_for(6, big=True), SPEC, seed=9)}
    script = f"""
import json, sys
sys.path.insert(0, {str(REPO)!r})
from tests.test_perturb_samples import samples_for, digest, SPEC
from fdrbench.perturb import perturb_samples
print(json.dumps({{s.id: digest(s.load_image()) for s in perturb_samples(samples_for(6, big=True), SPEC, seed=9)}}))
"""
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, cwd=REPO, env={"PYTHONHASHSEED": "123"}
    )
    assert json.loads(out.stdout) == here and sorted(here) == ids


def test_describe_and_fingerprints():
    info = describe("fakevlm_t7/jpeg70", seed=3)
    assert info["spec"] == "jpeg:q=70" and info["hash"] == parse("jpeg:q=70").hash and info["name"] == "fakevlm_t7/jpeg70"
    assert info["seed"] is None and info["random"] is False and info["geometric"] is False
    assert set(info["libraries"]) >= {"pillow", "libjpeg"}
    assert describe("noise:sigma=5", seed=3)["seed"] == 3 and set(describe("noise:sigma=5")["libraries"]) >= {"numpy", "scipy"}
    clean = "ab" * 32
    fp = perturbed_fingerprint(clean, "jpeg:q=70", seed=0)
    assert fp != clean and len(fp) == 64
    assert fp == perturbed_fingerprint(clean, "jpeg:q=70", seed=1) == perturbed_fingerprint(clean, "fakevlm_t7/jpeg70")
    assert fp != perturbed_fingerprint(clean, "jpeg:q=71") and fp != perturbed_fingerprint("cd" * 32, "jpeg:q=70")
    assert perturbed_fingerprint(clean, "noise:sigma=5", seed=0) != perturbed_fingerprint(clean, "noise:sigma=5", seed=1)


def test_run_id_part_is_filesystem_safe():
    assert run_id_part("fakevlm_t7/resize0.5") == f"fakevlm_t7-resize0.5-{parse('resize:f=0.5').hash[:8]}"
    label = run_id_part("jpeg:q=50|100,p=0.5+rotate:deg=-3")
    assert all(c.isalnum() or c in "._-" for c in label) and label.endswith(parse("jpeg:q=50|100,p=0.5+rotate:deg=-3").hash[:8])


def test_fingerprints_see_moved_regions_only_for_geometric_perturbations():
    parts = {"regional": [{"region": [2, 2, 10, 10], "desc": "odd hand"}]}
    base = [Sample(id="a", label=FAKE, image=CountingLoader(0), reference=Reference(text="t", parts=parts))]
    clean = fingerprint_samples(base)
    assert fingerprint_samples(perturb_samples(base, "jpeg:q=70")) == clean
    assert fingerprint_samples(perturb_samples(base, "resize:f=0.5")) != clean


def test_an_unreadable_image_file_is_a_data_error(tmp_path):
    from fdrbench.errors import DataError

    bad = tmp_path / "bad.png"
    bad.write_bytes(b"not an image")
    sample = perturb_sample(
        Sample(id="x", label=FAKE, image=bad, reference=Reference(parts={"regions": [{"box": [0, 0, 1, 1]}]})), "resize:f=0.5"
    )
    with pytest.raises(DataError, match="bad.png: record x: not a readable image"):
        sample.truth()
    with pytest.raises(DataError, match="not a readable image"):
        sample.load_image()


def test_the_infer_stage_stores_perturbed_truths(tmp_path):
    from fdrbench.progress import Bar
    from fdrbench.runner import infer
    from fdrbench.store import PredictionWriter, iter_records

    from .helpers.toy_adapters import HashDetector

    mask = np.zeros((40, 60), dtype=bool)
    mask[10:20, 30:50] = True
    paths = []
    for i in range(4):
        path = tmp_path / f"{i}.png"
        Image.fromarray(np.full((40, 60, 3), 40 * i, dtype=np.uint8)).save(path)
        paths.append(path)
    base = [
        Sample(
            id=f"s{i}", label=FAKE, image=p, mask=mask, reference=Reference(text="t", parts={"regional": [{"region": [30, 10, 20, 10]}]})
        )
        for i, p in enumerate(paths)
    ]
    with PredictionWriter(tmp_path / "predictions.jsonl") as writer:
        stats = infer(HashDetector(), list(perturb_samples(base, "resize:f=0.5")), writer, 2, None, Bar(None, None))
    assert stats.n_predicted == 4 and stats.n_errors == 0
    records = [record for _, record in iter_records(tmp_path / "predictions.jsonl")]
    assert len(records) == 4
    for record in records:
        truth = record["truth"]
        assert truth["mask"]["size"] == [20, 30]
        assert truth["reference"]["parts"]["regional"][0]["region"] == [15.0, 5.0, 10.0, 5.0]
        assert truth["image"] == str(paths[int(record["sample_id"][1:])])


def test_wrapped_samples_pickle_for_loader_workers(tmp_path):
    import pickle

    path = tmp_path / "a.png"
    CountingLoader(3)().save(path)
    wrapped = perturb_sample(Sample(id="a", label=FAKE, image=path, mask=np.ones((48, 64), dtype=bool)), "rotate:deg=20+noise:sigma=4", 2)
    copy = pickle.loads(pickle.dumps(wrapped))
    assert digest(copy.load_image()) == digest(wrapped.load_image())
    assert np.array_equal(copy.load_mask(), wrapped.load_mask()) and copy.perturbation == wrapped.perturbation
