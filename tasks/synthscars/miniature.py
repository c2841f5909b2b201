"""A miniature SynthScars release: one-key JSON entries, polygon refs, and the layout's quirks.

Kept: the README's ``annoations`` spelling (test) beside LEGION's ``annotations`` (train), an extra
``SynthScars/`` level from unzipping, an ``img_file_name`` given as an absolute cluster path, a
phrase that does not occur in the caption, a degenerate two-point polygon, a training image
annotated twice, a ref-level ``category`` and an image-level ``content_type`` (one reading of the
undocumented category fields).
"""

from __future__ import annotations

from pathlib import Path

from fdrbench.tasks.common.miniature import COLOURS, write_image, write_json

SQUARE = [2, 2, 6, 2, 6, 6, 2, 6]  # covers pixels 2..5 x 2..5 when rasterised: 16 pixels
CAPTION = (
    "Upon examining the image. I have found: a street scene.\nTo elaborate, I have found the following artifacts. "
    "the lamp post:its top bends into the sky"
)


def entry(name: str, refs: list[dict], **extra) -> dict:
    return {"img_file_name": name, "caption": f'"{CAPTION}"', "refs": refs, **extra}


def build(root: Path, nested: bool = True) -> Path:
    base = root / "SynthScars" if nested else root
    test = [
        {
            "0": entry(
                "a.png",
                [
                    {
                        "sentence": "the lamp post",
                        "explanation": "its top bends into the sky",
                        "segmentation": [SQUARE],
                        "bbox": None,
                        "category": "Structure",
                    }
                ],
                content_type="Object",
            )
        },
        {
            "1": entry(
                "/mnt/cluster/richhf/b.jpg",
                [
                    {
                        "sentence": "a shadow",
                        "explanation": "it falls toward the light",
                        "segmentation": [[0, 0, 3, 0, 3, 3, 0, 3], [1, 1, 2, 2]],
                        "category": "Physics",
                    }
                ],
                content_type="Scene",
            )
        },
        {"2": entry("c.png", [], content_type="Human")},
    ]
    for name, colour in (("a.png", COLOURS[0]), ("b.jpg", COLOURS[1]), ("c.png", COLOURS[2])):
        write_image(base / "test" / "images" / name, colour)
    write_json(base / "test" / "annoations" / "test.json", test)
    train = [
        {"10": entry("t.png", [{"sentence": "the lamp post", "explanation": "bent", "segmentation": [SQUARE]}], content_type="Object")},
        {
            "11": entry(
                "t.png", [{"sentence": "the lamp post", "explanation": "bent again", "segmentation": [SQUARE]}], content_type="Object"
            )
        },
    ]
    write_image(base / "train" / "images" / "t.png", COLOURS[3])
    write_json(base / "train" / "annotations" / "train.json", train)
    return root
