"""Image, mask and regions stay in register through every geometric perturbation: a square
painted into all three lands in the same place afterwards."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from fdrbench.perturb import perturb_sample
from fdrbench.perturb.geometry import Plan, inscribed_size
from fdrbench.types import FAKE, Reference, Sample

W, H = 120, 90
SQUARE = (30, 20, 30, 25)  # x, y, w, h
TRIANGLE = [[70.0, 50.0], [100.0, 50.0], [70.0, 80.0]]


def painted() -> tuple[np.ndarray, np.ndarray]:
    image = np.zeros((H, W, 3), dtype=np.uint8)
    mask = np.zeros((H, W), dtype=bool)
    x, y, w, h = SQUARE
    image[y : y + h, x : x + w] = 255
    mask[y : y + h, x : x + w] = True
    return image, mask


def square_sample(sample_id: str = "sq", mask_scale: int = 1) -> Sample:
    image, mask = painted()
    if mask_scale != 1:
        mask = mask[::mask_scale, ::mask_scale]
    parts = {
        "global": "the square is wrong",
        "regional": [{"region": list(SQUARE), "desc": "square"}, {"polygon": TRIANGLE, "desc": "triangle"}, "not a region"],
    }
    return Sample(id=sample_id, label=FAKE, image=lambda: Image.fromarray(image), mask=mask, reference=Reference(text="x", parts=parts))


GEOMETRIC = [
    "resize:f=0.5",
    "resize:f=0.37,interp=nearest",
    "resize:side=200,interp=bicubic",
    "rotate:deg=15",
    "rotate:deg=33,fit=expand,interp=bilinear",
    "rotate:deg=-20,fit=crop",
    "rotate:deg=90,fit=expand",
    "ccrop:size=70",
    "ccrop:f=0.8",
    "rrcrop:size=64,scale=0.6..1",
    "jpeg:q=90+resize:side=64+rotate:deg=10,fit=expand",
    "rotate:deg=12,fit=crop+ccrop:f=0.9+resize:f=1.5",
]


def iou(a: np.ndarray, b: np.ndarray) -> float:
    return (a & b).sum() / max(1, (a | b).sum())


def mask_box(mask: np.ndarray) -> list[float]:
    rows, cols = np.nonzero(mask)
    return [cols.min(), rows.min(), cols.max() + 1 - cols.min(), rows.max() + 1 - rows.min()]


@pytest.mark.parametrize("spec", GEOMETRIC)
def test_image_mask_and_box_stay_aligned(spec):
    sample = perturb_sample(square_sample(), spec, seed=5)
    image = np.asarray(sample.load_image().convert("L"))
    mask = sample.load_mask()
    assert mask.shape == image.shape
    assert mask.sum() > 0
    assert iou(mask, image > 127) > 0.85
    square = sample.truth().reference.parts["regional"][0]
    assert np.allclose(square["region"], mask_box(mask), atol=1.5)
    if "rotate" in spec and "deg=90" not in spec:
        corners = np.array(square["polygon"])  # the moved box is not axis-aligned any more
        inside = np.argwhere(mask)[:, ::-1] + 0.5
        assert _inside_fraction(inside, corners) > 0.97


def _inside_fraction(points: np.ndarray, polygon: np.ndarray, slack: float = 0.75) -> float:
    """Share of points inside a convex polygon (either winding), allowing ``slack`` pixels."""
    edges = np.roll(polygon, -1, axis=0) - polygon
    rel = points[:, None, :] - polygon[None, :, :]
    distance = (edges[None, :, 0] * rel[:, :, 1] - edges[None, :, 1] * rel[:, :, 0]) / np.hypot(edges[:, 0], edges[:, 1])[None, :]
    return float(((distance >= -slack).all(axis=1) | (distance <= slack).all(axis=1)).mean())


def test_polygons_move_with_the_image():
    base = square_sample()
    triangle = np.zeros((H, W), dtype=bool)
    yy, xx = np.mgrid[0:H, 0:W] + 0.5
    triangle[(xx >= 70) & (yy >= 50) & ((xx - 70) + (yy - 50) <= 30)] = True
    base.mask = triangle
    sample = perturb_sample(base, "rotate:deg=25,fit=expand+resize:f=0.8", seed=0)
    moved = np.array(sample.truth().reference.parts["regional"][1]["polygon"])
    mask = sample.load_mask()
    inside = np.argwhere(mask)[:, ::-1] + 0.5
    assert _inside_fraction(inside, moved) > 0.97
    assert np.allclose(moved.min(axis=0), np.argwhere(mask)[:, ::-1].min(axis=0), atol=1.5)


def test_other_parts_are_kept_and_the_clean_reference_is_untouched():
    base = square_sample()
    sample = perturb_sample(base, "resize:f=0.5")
    parts = sample.truth().reference.parts
    assert parts["global"] == "the square is wrong" and parts["regional"][2] == "not a region"
    assert parts["regional"][0] == {"region": [15.0, 10.0, 15.0, 12.5], "desc": "square"}
    assert parts["regional"][1]["polygon"] == [[35.0, 25.0], [50.0, 25.0], [35.0, 40.0]]
    assert "polygon" not in parts["regional"][0]  # a scaled box is still a box
    assert base.reference.parts["regional"][0]["region"] == list(SQUARE)


def test_a_region_cropped_away_has_no_box():
    base = square_sample()
    base.reference.parts["regional"].append({"box": [0, 0, 10, 10], "desc": "corner"})
    sample = perturb_sample(base, "ccrop:size=20")  # keeps x 50-70, y 35-55: the square ends at x 60, y 45
    regions = sample.truth().reference.parts["regional"]
    assert regions[0]["region"] == [0.0, 0.0, 10.0, 10.0]  # clipped to the crop
    assert regions[3] == {"box": None, "desc": "corner"}


def test_the_plan_from_the_header_equals_the_plan_the_image_went_through(tmp_path):
    image, mask = painted()
    path = tmp_path / "sq.png"
    Image.fromarray(image).save(path)
    spec = "rrcrop:size=48,scale=0.3..1+rotate:deg=-10,fit=crop"
    for index in range(6):
        first = perturb_sample(Sample(id=f"s{index}", label=FAKE, image=path, mask=mask), spec, seed=2)
        truth_first = first.truth()  # image not loaded: geometry planned from the header
        second = perturb_sample(Sample(id=f"s{index}", label=FAKE, image=path, mask=mask), spec, seed=2)
        second.load_image()
        assert second.truth() == truth_first
        assert first.geometry() == second.geometry()


def test_a_mask_stored_at_another_size_is_brought_to_the_image_first():
    sample = perturb_sample(square_sample(mask_scale=2), "rotate:deg=15")
    image = np.asarray(sample.load_image().convert("L"))
    mask = sample.load_mask()
    assert mask.shape == image.shape and iou(mask, image > 127) > 0.8


def test_non_geometric_perturbations_leave_mask_and_regions_alone():
    base = square_sample()
    sample = perturb_sample(base, "jpeg:q=50+noise:sigma=3")
    assert np.array_equal(sample.load_mask(), base.load_mask())
    assert sample.truth() == base.truth()


def test_identity_plan_keeps_a_mask_as_is():
    _, mask = painted()
    assert Plan((W, H), (W, H)).warp_mask(mask) is not None
    assert np.array_equal(Plan((W, H), (W, H)).warp_mask(mask), mask)


def test_inscribed_rectangle_sizes():
    assert inscribed_size((100, 100), 45) == (70, 70)  # side / sqrt(2)
    assert inscribed_size((200, 100), 0) == (200, 100)
    assert inscribed_size((200, 100), 90) == (100, 200)
