"""Each perturbation kind against an independent computation: PIL round trips, hand-computed
resizes and blurs, noise statistics, PIL's own rotate, array slicing."""

from __future__ import annotations

import io
import math

import numpy as np
import pytest
from PIL import Image

from fdrbench.perturb import parse
from fdrbench.perturb.pixels import gaussian_kernel


def photo(w: int = 96, h: int = 64) -> Image.Image:
    """A smooth colour image with detail, deterministic."""
    y, x = np.mgrid[0:h, 0:w]
    rng = np.random.default_rng(7)
    arr = np.stack([x * 255 / w, y * 255 / h, (x + y) % 64 * 4], axis=-1) + rng.normal(0, 8, (h, w, 3))
    return Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8), "RGB")


def run(spec: str, image: Image.Image, sample_id: str = "s", seed: int = 0) -> np.ndarray:
    return np.asarray(parse(spec)(image, sample_id, seed))


def pil_round_trip(image: Image.Image, fmt: str, **options) -> np.ndarray:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    buffer.seek(0)
    return np.asarray(Image.open(buffer).convert("RGB"))


@pytest.mark.parametrize("quality", [25, 70, 95])
def test_jpeg_is_a_pil_round_trip_at_the_same_quality(quality):
    image = photo()
    assert np.array_equal(run(f"jpeg:q={quality}", image), pil_round_trip(image, "JPEG", quality=quality))
    assert np.array_equal(run(f"jpeg:q={quality},sub=444", image), pil_round_trip(image, "JPEG", quality=quality, subsampling=0))
    assert not np.array_equal(run(f"jpeg:q={quality},sub=444", image), run(f"jpeg:q={quality}", image))


def test_webp_is_a_pil_round_trip():
    image = photo()
    assert np.array_equal(run("webp:q=60", image), pil_round_trip(image, "WEBP", quality=60, method=4))
    assert np.array_equal(run("webp:q=60,method=6", image), pil_round_trip(image, "WEBP", quality=60, method=6))


def test_resize_box_halves_into_block_means():
    arr = np.arange(16, dtype=np.uint8).reshape(4, 4) * 16
    image = Image.fromarray(np.stack([arr] * 3, axis=-1))
    out = run("resize:f=0.5,interp=box", image)[:, :, 0]
    expected = arr.reshape(2, 2, 2, 2).astype(float).mean(axis=(1, 3))
    assert np.array_equal(out, np.rint(expected).astype(np.uint8))


def test_resize_bilinear_is_the_antialiased_triangle_filter():
    # A 2x downscale widens the triangle to a radius of 2 input pixels. Output pixel 0 sits at
    # input x = 1.0: pixels 0 and 1 (centres 0.5, 1.5) weigh 0.75, pixel 2 (2.5) weighs 0.25.
    row = np.array([0, 70, 140, 210], dtype=np.uint8)
    image = Image.fromarray(np.stack([np.tile(row, (4, 1))] * 3, axis=-1))
    out = run("resize:f=0.5", image)[0, :, 0]
    assert out.tolist() == [(0 * 3 + 70 * 3 + 140) // 7, (70 * 1 + 140 * 3 + 210 * 3) // 7]  # 50, 160


@pytest.mark.parametrize(
    ("spec", "size_in", "size_out"),
    [
        ("resize:f=0.5", (97, 64), (48, 32)),  # sides floored, as int(w * f)
        ("resize:f=0.75", (100, 60), (75, 45)),
        ("resize:side=150", (300, 200), (150, 100)),
        ("resize:side=100", (200, 301), (66, 100)),  # 200 * 100 / 301 = 66.4
        ("resize:side=512", (300, 200), (512, 341)),  # 200 * 512 / 300 = 341.3
        ("resize:side=512,upscale=no", (300, 200), (300, 200)),
        ("resize:side=100,upscale=no", (300, 200), (100, 67)),  # 66.67 rounds half up
    ],
)
def test_resize_sizes(spec, size_in, size_out):
    assert parse(spec)(Image.new("RGB", size_in), "s").size == size_out


def test_resize_interpolations_are_pils():
    image = photo()
    for name, code in (("bicubic", Image.Resampling.BICUBIC), ("lanczos", Image.Resampling.LANCZOS), ("nearest", Image.Resampling.NEAREST)):
        assert np.array_equal(run(f"resize:side=40,interp={name}", image), np.asarray(image.resize((40, 27), code)))


def test_noise_statistics():
    grey = Image.new("RGB", (256, 256), (128, 128, 128))
    diff = run("noise:sigma=10", grey).astype(float) - 128
    assert abs(diff.mean()) < 0.1
    assert abs(diff.std() - np.sqrt(10**2 + 1 / 12)) < 0.15  # rounding to integers adds a variance of 1/12
    flat = diff.reshape(-1, 3)
    assert abs(np.corrcoef(flat.T)[0, 1]) < 0.02 and abs(np.corrcoef(flat[:-1, 0], flat[1:, 0])[0, 1]) < 0.02
    # |round(z)| <= 10 exactly when |z| < 10.5: the normal mass within 1.05 sigma
    assert abs((np.abs(diff) <= 10).mean() - math.erf(10.5 / (10 * math.sqrt(2)))) < 0.005
    assert np.array_equal(run("noise:sigma=0", grey), np.asarray(grey))


def test_noise_clips_to_the_valid_range_and_is_keyed_on_sample_and_seed():
    black = Image.new("RGB", (64, 64))
    out = run("noise:sigma=20", black)
    assert out.min() == 0 and out.max() > 40
    grey = Image.new("RGB", (64, 64), (128,) * 3)
    assert np.array_equal(run("noise:sigma=5", grey, "a", 1), run("noise:sigma=5", grey, "a", 1))
    assert not np.array_equal(run("noise:sigma=5", grey, "a", 1), run("noise:sigma=5", grey, "b", 1))
    assert not np.array_equal(run("noise:sigma=5", grey, "a", 1), run("noise:sigma=5", grey, "a", 2))


def test_blur_k3_is_the_binomial_kernel():
    arr = np.zeros((7, 7, 3), dtype=np.uint8)
    arr[3, 3] = 160
    out = run("blur:k=3", Image.fromarray(arr))[:, :, 0]
    assert out[2:5, 2:5].tolist() == [[10, 20, 10], [20, 40, 20], [10, 20, 10]]
    assert out.sum() == 160
    corner = np.zeros((5, 5, 3), dtype=np.uint8)
    corner[0, 0] = 160
    out = run("blur:k=3", Image.fromarray(corner))[:, :, 0]
    assert out[:2, :2].tolist() == [[40, 20], [20, 10]]  # mirrored border: pixel -1 is pixel 1


def test_gaussian_kernels_follow_opencv():
    assert gaussian_kernel(5, None).tolist() == [0.0625, 0.25, 0.375, 0.25, 0.0625]
    k9 = gaussian_kernel(9, None)
    sigma = 0.3 * ((9 - 1) * 0.5 - 1) + 0.8
    expected = np.exp(-((np.arange(9) - 4) ** 2) / (2 * sigma**2))
    assert np.allclose(k9, expected / expected.sum())
    assert np.allclose(gaussian_kernel(3, 2.0), np.exp(-np.array([1, 0, 1]) / 8.0) / np.exp(-np.array([1, 0, 1]) / 8.0).sum())


def test_blur_sigma_matches_a_float_convolution():
    image = photo()
    x = np.arange(-4, 5)
    kernel = np.exp(-(x**2) / 2.0)
    kernel /= kernel.sum()
    arr = np.asarray(image).astype(float)
    padded = np.pad(arr, ((4, 4), (4, 4), (0, 0)), mode="symmetric")  # SciPy's 'reflect'
    rows = sum(kernel[i] * padded[i : i + arr.shape[0], :, :] for i in range(9))
    both = sum(kernel[i] * rows[:, i : i + arr.shape[1], :] for i in range(9))
    out = run("blur:sigma=1", image).astype(float)
    # SciPy writes uint8 after each axis by truncation, as the benchmarks' own call does
    assert (out <= both + 1e-9).all() and (out >= both - 2).all() and (both - out).mean() < 1.2


@pytest.mark.parametrize("degrees", [15, -30, 90, 137.5, 180, 270, -359])
@pytest.mark.parametrize("interp", ["nearest", "bilinear", "bicubic"])
def test_rotate_same_and_expand_equal_pils_rotate(degrees, interp):
    image = photo()
    code = {"nearest": Image.Resampling.NEAREST, "bilinear": Image.Resampling.BILINEAR, "bicubic": Image.Resampling.BICUBIC}[interp]
    assert np.array_equal(run(f"rotate:deg={degrees},interp={interp}", image), np.asarray(image.rotate(degrees, code)))
    assert np.array_equal(
        run(f"rotate:deg={degrees},interp={interp},fit=expand", image), np.asarray(image.rotate(degrees, code, expand=True))
    )


@pytest.mark.parametrize(("degrees", "size"), [(15, (96, 64)), (45, (80, 80)), (90, (96, 64)), (-20, (50, 120))])
def test_rotate_crop_leaves_no_fill(degrees, size):
    white = Image.new("RGB", size, (255, 255, 255))
    out = run(f"rotate:deg={degrees},fit=crop", white)
    assert out.min() == 255
    w, h = size
    if degrees == 90:
        assert out.shape[:2] == (w, h)
    else:
        assert out.shape[1] < w and out.shape[0] < h
    if degrees != 90:
        assert run(f"rotate:deg={degrees},fit=expand", white).min() == 0  # the expanded canvas does show fill


def test_centre_crop_is_array_slicing():
    image = photo(97, 64)
    arr = np.asarray(image)
    assert np.array_equal(run("ccrop:size=50", image), arr[7:57, 23:73])  # offsets (97-50)//2, (64-50)//2
    assert np.array_equal(run("ccrop:size=80", image), arr[:, 8:88])  # the 64-px side is already within 80
    assert np.array_equal(run("ccrop:f=0.5", image), arr[16:48, 24:72])  # 48 x 32 at ((97-48)//2, (64-32)//2)
    assert np.array_equal(run("ccrop:size=2000", image), arr)


def test_random_resized_crop_draws_within_its_bounds():
    image = photo(120, 80)
    for index in range(40):
        plan = parse("rrcrop:size=32,scale=0.25..0.5,ratio=0.5..2").plan(image.size, f"s{index}", 3)
        crop, resize = plan.steps
        left, top, right, bottom = crop.box
        assert 0 <= left < right <= 120 and 0 <= top < bottom <= 80
        area = (right - left) * (bottom - top) / (120 * 80)
        assert 0.2 < area < 0.55  # scale 0.25-0.5, give or take the rounding of the sides
        assert 0.45 < (right - left) / (bottom - top) < 2.2
        assert resize.size_out == (32, 32) and plan.size_out == (32, 32)
    out = parse("rrcrop:size=32,scale=0.25..0.5,ratio=0.5..2")(image, "s0", 3)
    left, top, right, bottom = parse("rrcrop:size=32,scale=0.25..0.5,ratio=0.5..2").plan(image.size, "s0", 3).steps[0].box
    assert np.array_equal(np.asarray(out), np.asarray(image.crop((left, top, right, bottom)).resize((32, 32), Image.Resampling.BILINEAR)))


def test_random_resized_crop_falls_back_to_a_central_crop():
    # an aspect ratio no crop of a 100x10 image can have inside its area bounds: ten misses
    plan = parse("rrcrop:size=8,scale=0.9..1,ratio=0.9..1").plan((100, 10), "s", 0)
    assert plan.steps[0].box == (45, 0, 55, 10)


def test_grayscale_is_pils_luma_on_three_channels():
    image = photo()
    out = run("gray", image)
    luma = np.asarray(image.convert("L"))
    assert all(np.array_equal(out[:, :, c], luma) for c in range(3))


def test_probability_applies_a_step_to_about_that_share_of_samples():
    image = Image.new("RGB", (8, 8), (100, 150, 200))
    changed = sum(not np.array_equal(run("gray:p=0.3", image, f"id{i}"), np.asarray(image)) for i in range(400))
    assert 90 <= changed <= 150
    assert all(np.array_equal(run("gray:p=0", image, f"id{i}"), np.asarray(image)) for i in range(20))


def test_ranges_and_choices_are_drawn_per_sample():
    image = photo()
    sizes = {parse("resize:side=20..40")(image, f"id{i}").size[0] for i in range(60)}
    assert sizes <= set(range(20, 41)) and len(sizes) > 10
    seen = {run("jpeg:q=10|95", image, f"id{i}").tobytes() for i in range(30)}
    assert seen == {pil_round_trip(image, "JPEG", quality=10).tobytes(), pil_round_trip(image, "JPEG", quality=95).tobytes()}


def test_other_modes_are_perturbed_as_rgb():
    image = photo().convert("L")
    out = parse("jpeg:q=80")(image, "s")
    assert out.mode == "RGB" and np.array_equal(np.asarray(out), pil_round_trip(image.convert("RGB"), "JPEG", quality=80))


def test_binomial_blurs_round_half_up_like_a_fixed_point_filter():
    # 8 at one pixel spreads as 8 * outer([1, 2, 1], [1, 2, 1]) / 16: the diagonal neighbours
    # get exactly 0.5, which rounds up (not to even) to 1
    arr = np.zeros((5, 5, 3), dtype=np.uint8)
    arr[2, 2] = 8
    out = run("blur:k=3", Image.fromarray(arr))[:, :, 0]
    assert out[1:4, 1:4].tolist() == [[1, 1, 1], [1, 2, 1], [1, 1, 1]]
    wide = np.zeros((9, 9, 3), dtype=np.uint8)
    wide[4, 4] = 255
    for size in (5, 7):
        blurred = run(f"blur:k={size}", Image.fromarray(wide))[:, :, 0].astype(float)
        exact = 255 * np.outer(gaussian_kernel(size, None), gaussian_kernel(size, None))
        pad = (9 - size) // 2
        assert np.abs(blurred[pad : 9 - pad, pad : 9 - pad] - exact).max() <= 0.5 + 1e-9


@pytest.mark.parametrize("shape", [(1, 1, 3), (2, 5, 3), (3, 3, 3), (4, 9, 3), (7, 2, 3), (33, 17, 3)])
def test_the_fast_binomial_pass_is_scipys_mirror_correlation(shape):
    """The shifted-view sum used for the small OpenCV kernels gives SciPy's ``correlate1d`` (mirror
    border) exactly, including axes shorter than the kernel."""
    from scipy import ndimage

    from fdrbench.perturb.pixels import SMALL_KERNELS, _correlate_small

    arr = np.random.default_rng(sum(shape)).integers(0, 256, shape)
    for weights, bits in SMALL_KERNELS.values():
        work = arr.astype(np.uint16 if 2 * bits <= 8 else np.uint32)
        for axis in (0, 1):
            expected = ndimage.correlate1d(work, weights, axis=axis, mode="mirror")
            got = _correlate_small(work, weights, axis)
            assert got.dtype == expected.dtype and np.array_equal(got, expected), (weights, axis)
