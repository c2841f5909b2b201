"""A miniature FakeClue test split: six records over five sources, in the released JSON.

The quirks kept: ``label`` is 1 for real and 0 for fake, the question carries its ``<image>``
token, the answer starts with its verdict sentence, image names have odd characters and case
(``.PNG``, commas), and every record states its width and height.
"""

from __future__ import annotations

from pathlib import Path

from fdrbench.tasks.common.miniature import COLOURS, write_image, write_json
from fdrbench.tasks.fakeclue.task import RAW_PROMPT

RECORDS = [
    # (image relative to the split folder, FakeClue label: 1 real / 0 fake, cate, answer)
    (
        "ff++/fake/Deepfakes/c23/frames/071_054/160.png",
        0,
        "deepfake",
        "This is a fake image. The nostrils are pixelated; the skin is smooth.",
    ),
    ("ff++/real/youtube/c23/frames/858/12.png", 1, "deepfake", "This is a real image. The skin has natural pores; the light is even."),
    ("genimage/fake/416_adm_45.PNG", 0, "animal", "This is a fake image. The zebra's stripes merge; the legs bend oddly."),
    ("satellite/real/41.8,-87.6_mbev.jpg", 1, "satellite", "This is a real image. Roads connect; shadows agree."),
    (
        "chameleon/fake/762482d5-d381-4586-8964-c3d567e233cf.jpg",
        0,
        "human",
        "This is a fake image. Despite its seemingly authentic appearance, certain features such as the hair look painted.",
    ),
    ("doc/real/0001.png", 1, "doc", "This is a real image. The text is crisp and aligned."),
]


def build(root: Path) -> Path:
    """``root/data_json/test.json`` and ``root/test/<source>/...``: the records of :data:`RECORDS`."""
    records = []
    for i, (image, label, cate, answer) in enumerate(RECORDS):
        write_image(root / "test" / image, COLOURS[i % 6], fmt="JPEG" if image.endswith(".jpg") else "PNG")
        records.append(
            {
                "image": image,
                "label": label,
                "cate": cate,
                "width": 8,
                "height": 8,
                "conversations": [{"from": "human", "value": RAW_PROMPT}, {"from": "gpt", "value": answer}],
            }
        )
    write_json(root / "data_json" / "test.json", records)
    return root
