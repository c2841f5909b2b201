"""Format parity on images written here: PNG vs JPEG q=75 vs JPEG q=95, with and without EXIF."""

from __future__ import annotations

import io
import json

import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

from fdrbench.cli import app
from fdrbench.datacheck import check_task
from fdrbench.perturb.parity import format_parity, ijg_tables, jpeg_quality, stored_as
from fdrbench.tasks.fakeclue.miniature import build as build_fakeclue
from fdrbench.types import FAKE, REAL, Sample


def picture(seed: int, size=(64, 48)) -> Image.Image:
    rng = np.random.default_rng(seed)
    return Image.fromarray(rng.integers(0, 256, (size[1], size[0], 3), dtype=np.uint8))


def write(path, fmt: str, quality: int | None = None, exif: bool = False, size=(64, 48), seed: int = 0):
    options = {}
    if quality is not None:
        options["quality"] = quality
    if exif:
        tags = Image.Exif()
        tags[0x010F] = "fdrbench camera"  # Make
        options["exif"] = tags.tobytes()
    picture(seed, size).save(path, fmt, **options)
    return path


def test_ijg_tables_are_the_annex_k_tables_at_50():
    tables = ijg_tables()
    assert tables[49, 0, :8].tolist() == [16, 11, 10, 16, 24, 40, 51, 61]
    assert tables[49, 1, :8].tolist() == [17, 18, 24, 47, 99, 99, 99, 99]
    assert (tables[99] == 1).all()  # quality 100: every step 1
    assert tables[74, 0, 0] == (16 * 50 + 50) // 100  # quality 75 scales by 50%


@pytest.mark.parametrize("quality", [1, 10, 25, 49, 50, 51, 75, 90, 95, 99, 100])
def test_quality_of_pil_jpegs_is_recovered_exactly(quality):
    buffer = io.BytesIO()
    picture(0).save(buffer, "JPEG", quality=quality)
    with Image.open(buffer) as handle:
        assert jpeg_quality(handle.quantization) == (quality, True)


def test_tables_of_another_encoder_get_the_nearest_quality():
    custom = [max(1, v - 1) for v in ijg_tables()[79, 0].tolist()]  # quality 80's tables, nudged
    buffer = io.BytesIO()
    picture(0).save(buffer, "JPEG", qtables=[custom, ijg_tables()[79, 1].tolist()])
    with Image.open(buffer) as handle:
        assert jpeg_quality(handle.quantization) == (80, False)
    assert jpeg_quality({}) is None


def test_stored_as_reads_format_quality_size_and_exif(tmp_path):
    png = stored_as(Sample(id="a", label=REAL, image=write(tmp_path / "a.png", "PNG")))
    assert (png.format, png.size, png.quality, png.exif) == ("PNG", (64, 48), None, False)
    jpg = stored_as(Sample(id="b", label=REAL, image=write(tmp_path / "b.jpg", "JPEG", 75, exif=True)))
    assert (jpg.format, jpg.quality, jpg.standard_tables, jpg.exif) == ("JPEG", 75, True, True)
    (tmp_path / "bad.jpg").write_bytes(b"junk")
    assert stored_as(Sample(id="c", label=REAL, image=tmp_path / "bad.jpg")).format == "unreadable"
    loaded = stored_as(Sample(id="d", label=REAL, image=lambda: picture(1)))
    assert loaded.format == "in-memory" and loaded.size == (64, 48)


def test_loaders_that_offer_their_stored_bytes_are_read_like_files():
    buffer = io.BytesIO()
    picture(2).save(buffer, "JPEG", quality=95)

    class Cell:
        def __call__(self):
            return Image.open(io.BytesIO(buffer.getvalue())).convert("RGB")

        def encoded(self):
            return buffer.getvalue()

    found = stored_as(Sample(id="e", label=FAKE, image=Cell()))
    assert (found.format, found.quality) == ("JPEG", 95)


def test_real_jpegs_with_exif_against_fake_pngs_warn(tmp_path):
    samples = [Sample(id=f"r{i}", label=REAL, image=write(tmp_path / f"r{i}.jpg", "JPEG", 95, exif=True, seed=i)) for i in range(4)]
    samples += [Sample(id=f"f{i}", label=FAKE, image=write(tmp_path / f"f{i}.png", "PNG", seed=10 + i)) for i in range(4)]
    report = format_parity(samples)
    real, fake = report["by_label"]["real"], report["by_label"]["fake"]
    assert real["formats"] == {"JPEG": 4} and fake["formats"] == {"PNG": 4}
    assert real["jpeg"] == {"n": 4, "qualities": {95: 4}, "median_quality": 95, "nonstandard_tables": 0}
    assert real["exif"] == 4 and fake["exif"] == 0 and fake["jpeg"]["n"] == 0
    assert report["warnings"] == [
        "container formats differ: real 100% JPEG; fake 100% PNG",
        "EXIF differs: 100% of real images carry EXIF, 0% of fake",
    ]
    json.dumps(report)  # the data check prints it as JSON too


def test_jpeg_quality_and_size_gaps_warn(tmp_path):
    samples = [Sample(id=f"r{i}", label=REAL, image=write(tmp_path / f"r{i}.jpg", "JPEG", 95, size=(64 + i, 48))) for i in range(4)]
    samples += [Sample(id=f"f{i}", label=FAKE, image=write(tmp_path / f"f{i}.jpg", "JPEG", 75, size=(128, 128))) for i in range(4)]
    warnings = format_parity(samples)["warnings"]
    assert "JPEG quality differs: median 95 for real, 75 for fake" in warnings
    assert "image size differs: 100% of fake images are 128x128, 0% of real" in warnings
    assert "image size differs: median longest side 65.5 px for real, 128 px for fake" in warnings
    assert not any("container" in w or "EXIF" in w for w in warnings)


def test_matched_storage_gives_no_warning_and_groups_are_reported(tmp_path):
    samples = []
    for i in range(6):
        label = REAL if i % 2 == 0 else FAKE
        group = {"generator": "real" if label == REAL else ("sd" if i % 4 == 1 else "gan")}
        samples.append(Sample(id=f"s{i}", label=label, image=write(tmp_path / f"s{i}", "JPEG", 90, seed=i), group=group))
    report = format_parity(samples)
    assert report["warnings"] == [] and report["group_key"] == "generator"
    assert set(report["by_group"]) == {"real", "sd", "gan"}
    assert report["by_group"]["gan"]["fake"]["formats"] == {"JPEG": 1} and "real" not in report["by_group"]["gan"]
    # one generator stored differently is named
    samples.append(Sample(id="s9", label=FAKE, image=write(tmp_path / "s9", "PNG", seed=9), group={"generator": "flux"}))
    samples.append(Sample(id="s10", label=FAKE, image=write(tmp_path / "s10", "PNG", seed=10), group={"generator": "flux"}))
    warnings = format_parity(samples)["warnings"]
    assert warnings == [
        "container formats differ: real 100% JPEG; fake 60% JPEG, 40% PNG",
        "generator=flux: container formats differ: real 100% JPEG; fake 100% PNG",
    ]
    assert format_parity(samples, group_key=None)["by_group"] == {}


def test_data_check_reports_parity(tmp_path):
    root = build_fakeclue(tmp_path / "fc")
    split = check_task("fakeclue", root, show_progress=False)["splits"][0]
    parity = split["format_parity"]
    assert parity["n"] == 6 and parity["by_label"]["real"]["n"] == 3 and parity["by_label"]["fake"]["n"] == 3
    result = CliRunner().invoke(app, ["data", "check", "fakeclue", "--data-dir", str(root)])
    assert result.exit_code == 0 and "format parity" in result.output
    for path in (root / "test").rglob("*"):
        if path.is_file() and "/real/" in str(path):
            Image.open(path).convert("RGB").save(path, "JPEG", quality=60)  # every real image now a JPEG
    result = CliRunner().invoke(app, ["data", "check", "fakeclue", "--data-dir", str(root)], terminal_width=200)
    assert result.exit_code == 0 and "warning: container formats differ: real 100% JPEG" in result.output
    assert "can learn the storage instead of the forgery" in result.output
    no_decode = check_task("fakeclue", root, decode=False, show_progress=False)["splits"][0]
    assert "format_parity" not in no_decode
