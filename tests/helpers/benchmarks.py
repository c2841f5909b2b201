"""Miniature copies of every benchmark, built in code in each release's exact layout and encoding.

Each builder writes a handful of tiny images and the annotation files with the quirks of the
real release (FakeClue's 1 = real, LOKI's UTF-16 explanation file and ``sence`` category, MMFR's
extra real keys, So-Fake-OOD's two label maps, SID-Set's ``X_mask.png``, DD-VQA's several
references per question) and returns what the tests need to know to check the loaders.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
from PIL import Image

from fdrbench.tasks.loki import ASK_FAKE_QUESTION
from fdrbench.tasks.miniature_files import COLOURS, image_bytes, write_image, write_json
from fdrbench.tasks.mmfr import AUTHENTIC_ATTRIBUTES, FORGERY_ATTRIBUTES, PROMPT

# --------------------------------------------------------------------------- MMFR


def mmfr_fake_attributes(i: int) -> dict:
    attrs = {key: None for key in FORGERY_ATTRIBUTES}
    attrs["Semantic Irrationality"] = f"The hands of figure {i} have six fingers."
    attrs["Anomalous Image Texture"] = f"The skin of figure {i} is waxy."
    return attrs


def mmfr_real_attributes(i: int) -> dict:
    attrs = {key: None for key in AUTHENTIC_ATTRIBUTES}
    attrs["Consistent Lighting and Shadows"] = f"Shadows in scene {i} fall one way."
    attrs["High Image Quality"] = f"Scene {i} is sharp."
    attrs["Natural Color Distribution"] = "Colours are natural."  # the release keeps GPT's extra real keys
    return attrs


def build_mmfr(root: Path, sets=("stablediffusion", "gigagan"), per_label: int = 2) -> Path:
    """``root/dataset/...`` as the joined archive extracts: two evaluation sets and the training files."""
    base = root / "dataset"
    for s, set_name in enumerate(sets):
        reasoning = {}
        for i in range(per_label):
            fake = f"{set_name}/1_fake/{i:06d}.png"
            real = f"{set_name}/0_real/{i:06d}.jpg"
            write_image(base / "evaluation_sets" / fake, COLOURS[(s + i) % 6])
            write_image(base / "evaluation_sets" / real, COLOURS[(s + i + 3) % 6])
            reasoning[fake] = mmfr_fake_attributes(i)
            reasoning[real] = mmfr_real_attributes(i)
        # an image whose annotation was dropped in review: on disk, not in the reasoning file
        write_image(base / "evaluation_sets" / set_name / "1_fake" / "dropped.png")
        write_json(base / "evaluation_sets" / set_name / f"{set_name}_reasoning.json", reasoning)
    cot = []
    fake_reasoning, real_reasoning = {}, {}
    for i in range(2):
        fake = f"diffusiondb/part-000001/0a3c75bb-4bd0-47c8-a2ba-e2aee92ad4{i:02d}.png"
        real = f"laion/00000/{i:09d}.jpg"
        write_image(base / fake, COLOURS[i])
        write_image(base / real, COLOURS[i + 2])
        fake_reasoning[fake] = mmfr_fake_attributes(i)
        real_reasoning[real] = mmfr_real_attributes(i)
        for path, verdict in ((fake, "fake"), (real, "real")):
            cot.append(
                {
                    "image": path,
                    "conversations": [
                        {"from": "human", "value": "<image>\n" + PROMPT},
                        {
                            "from": "gpt",
                            "value": "<SUMMARY> I will look. </SUMMARY> <CAPTION> A scene. </CAPTION> "
                            f"<REASONING> From low-level perspective: cue {i}. From high-level perspective: none. </REASONING> "
                            f"<CONCLUSION> This image is {verdict}. </CONCLUSION>",
                        },
                    ],
                }
            )
    write_json(base / "diffusiondb" / "diffusiondb_reasoning.json", fake_reasoning)
    write_json(base / "laion" / "laion_reasoning.json", real_reasoning)
    write_json(base / "forgery_reasoning_cot.json", cot)
    return root


# --------------------------------------------------------------------------- FakeClue

FAKECLUE_RECORDS = [
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


def build_fakeclue(root: Path) -> Path:
    records = []
    for i, (image, label, cate, answer) in enumerate(FAKECLUE_RECORDS):
        write_image(root / "test" / image, COLOURS[i % 6], fmt="JPEG" if image.endswith(".jpg") else "PNG")
        records.append(
            {
                "image": image,
                "label": label,
                "cate": cate,
                "width": 8,
                "height": 8,
                "conversations": [{"from": "human", "value": "<image>Does the image looks real/fake?"}, {"from": "gpt", "value": answer}],
            }
        )
    write_json(root / "data_json" / "test.json", records)
    return root


# --------------------------------------------------------------------------- LOKI

ASK_REAL_QUESTION = (
    "You have been shown one image, which might be taken from real world or generated by an advanced AI model. \n"
    "Is this image taken from the real world? (Answer yes if you think it is taken from the real world, and answer no otherwise.)\n"
)
#: (uuid, suffix, truth, category as released)
LOKI_IMAGES = [
    ("d9df7eb3-98b4-5478-a667-3ca742dbbcbe", "jpg", "real", "doc"),
    ("0b1c2d3e-0000-5000-8000-000000000001", "png", "fake", "doc"),
    ("0b1c2d3e-0000-5000-8000-000000000002", "png", "fake", "sence"),
    ("0b1c2d3e-0000-5000-8000-000000000003", "jpg", "real", "sence"),
    ("0b1c2d3e-0000-5000-8000-000000000004", "png", "fake", "animals"),
]


def build_loki(root: Path) -> Path:
    items = []
    for i, (uid, suffix, truth, cat) in enumerate(LOKI_IMAGES):
        path = f"media_data/image/{uid}.{suffix}"
        write_image(root / path, COLOURS[i % 6])
        for asked, question in (("fake", ASK_FAKE_QUESTION), ("real", ASK_REAL_QUESTION)):
            answer = "Yes" if truth == asked else "No"
            items.append(
                {
                    "image_path": path,
                    "question": "<image>\n" + question,
                    "answer": answer,
                    "metric": "open-ended",
                    "modality": "image-text",
                    "question_type": f"image_tf_image_{truth}_ask_{asked}_{cat}",
                    "choices": [],
                    "id": f"{cat}_tf_{asked}_{i}_0",
                }
            )
    write_json(root / "data_json" / "image" / "true_or_false.json", items)
    open_ended = []
    for j, (uid, suffix) in enumerate((("fd8a8f57-91ea-5796-8bf7-50a0364871ef", "png"), ("aa000000-0000-5000-8000-00000000000b", "jpg"))):
        path = f"media_data/image/{uid}.{suffix}"
        write_image(root / path, COLOURS[j])
        open_ended.append(
            {
                "image_path": path,
                "problems": {
                    "regional": [
                        {
                            "region": [341.49942078539976, 271.39470446394097, 168.92081078090786, 53.58020874648651],
                            "desc": "Chairs float on the water.",
                        },
                        {"region": [153.5, 194.4, 321.8, 57.1], "desc": "The window merges with the wall — oddly."},
                    ],
                    "global": [{"desc": "" if j == 0 else "The whole scene is too clean."}],
                },
                "id": f"a980c24e-6c30-11ef-b303-80615f12b4c{j}",
                "question": "<image>\n\n\nThis is a fake image generated by an advanced AI model.\n\nExplain why.\n\n",
                "choices": [],
                "answer": "",
                "modality": "image-text",
                "question_type": "image_open_ended_vqa",
                "metric": "model-as-judge",
            }
        )
    write_json(root / "data_json" / "image" / "open_ended_vqa.json", open_ended, encoding="utf-16")
    return root


# --------------------------------------------------------------------------- DD-VQA

DDVQA_QUESTIONS = [
    "Does the image looks real/fake?",
    "Does the person's skin look real/fake?",
    "Do the person's eyebrows look real/fake?",
    "Do the person's eyes look real/fake?",
    "Does the person's nose look real/fake?",
    "Does the person's mouth look real/fake?",
]
#: split folder -> method folder (all six, as released) -> keys; a key's number of questions is 2 + its index % 3
DDVQA_KEYS = {
    "test_set": {
        "Deepfakes": ["0_114_102"],
        "Face2Face": ["1_012_026"],
        "FaceShifter": ["2_623_630"],
        "FaceSwap": ["3_919_015"],
        "Neuraltexture": ["6_078_955"],
        "Original": ["5_044", "5_114", "5_078"],
    },
    "train_set": {
        "Deepfakes": ["0_035_036"],
        "Face2Face": ["1_024_073"],
        "FaceShifter": ["2_300_304"],
        "FaceSwap": ["3_400_476"],
        "Neuraltexture": ["6_500_592"],
        "Original": ["5_953"],
    },
}


def ddvqa_record(key: str, n_questions: int) -> dict:
    verdict = "real" if key.startswith("5_") else "fake"
    record = {}
    for qid in range(n_questions):
        question = DDVQA_QUESTIONS[qid]
        subject = "The image looks" if qid == 0 else f"The person's {question.split(chr(39) + 's ')[1].split(' look')[0]} look"
        answers = [f"{subject} {verdict}. Reference one for {key}/{qid}."]
        if qid == 0:
            answers.append(f"{subject} {verdict}. A second annotator on {key}.")
        record[str(qid)] = {"question": question, "answer": answers}
    return record


def build_ddvqa(root: Path, frames_root: Path | None = None, frames_per_video: int = 5) -> Path:
    """``root/DQ_FF++`` as released; with ``frames_root``, an FF++ frames tree in the extraction layout."""
    for split, methods in DDVQA_KEYS.items():
        for method, keys in methods.items():
            data = {key: ddvqa_record(key, 2 + i % 3) for i, key in enumerate(keys)}
            write_json(root / "DQ_FF++" / split / method / f"{method}.json", data)
    write_json(root / "DQ_FF++" / "split" / "test.json", [["114", "102"], ["078", "955"]])
    if frames_root is not None:
        ffpp = {"0": "Deepfakes", "1": "Face2Face", "2": "FaceShifter", "3": "FaceSwap", "6": "NeuralTextures"}
        for methods in DDVQA_KEYS.values():
            for keys in methods.values():
                for key in keys:
                    prefix, _, video = key.partition("_")
                    base = (
                        frames_root / "original_sequences" / "youtube" / "c23" / "images" / video
                        if prefix == "5"
                        else frames_root / "manipulated_sequences" / ffpp[prefix] / "c23" / "images" / video
                    )
                    for f in range(frames_per_video):
                        write_image(base / f"{f:04d}.png", COLOURS[f % 6])
    return root


# --------------------------------------------------------------------------- parquet (So-Fake-OOD, SID-Set)

SOFAKE_NAMES = {"v1": ["full_synthetic", "real", "tampered"], "v2": ["real", "tampered", "full_synthetic"]}


def mask_bytes(size=(8, 8), value: int = 255, edge: int | None = 200) -> bytes:
    arr = np.zeros((size[1], size[0]), dtype=np.uint8)
    arr[2:6, 2:6] = value
    if edge is not None:
        arr[2, 2] = edge  # an anti-aliased edge pixel: foreground for > 127, background for == 255
    buffer = io.BytesIO()
    Image.fromarray(arr, mode="L").save(buffer, format="PNG")
    return buffer.getvalue()


def sofake_rows(version: str) -> list[dict]:
    """Rows by class name; the integer label is filled in from the version's own name list."""
    rows = [
        {"cls": "real", "filename": "reddit_00001.jpg", "generator": None, "source": "reddit"},
        {"cls": "real", "filename": "reddit_00002.jpg", "generator": None, "source": "reddit"},
        {"cls": "full_synthetic", "filename": "full_synthetic_00001.png", "generator": "Seedream3.0", "source": "EarthPorn"},
        {"cls": "full_synthetic", "filename": "full_synthetic_00002.png", "generator": "GPT4o", "source": "pics"},
        {"cls": "tampered", "filename": "part1_09462_openai_tampered.png", "generator": "openai", "source": "pics"},
        {"cls": "tampered", "filename": "part1_00007_flux_tampered.png", "generator": "Ideogram 3.0", "source": "CityPorn"},
    ]
    if version == "v1":
        for row in rows:
            row["generator"] = row["source"] = None
    return rows


def build_sofake(root: Path, version: str = "v2", card: bool = True, metadata: bool = True, mask: dict | None = None) -> Path:
    """``root/data/test-00000-of-00001.parquet`` (+ README.md) as the Hub snapshot of one version holds it;
    ``mask`` overrides :func:`mask_bytes`'s ``value`` / ``edge`` (``{"value": 100, "edge": None}``: the
    two-valued gray-100 masks of the release's figures)."""
    import datasets

    names = SOFAKE_NAMES[version]
    rows = sofake_rows(version)
    columns: dict[str, list] = {"image": [], "label": [], "mask": [], "filename": []}
    features = {
        "image": datasets.Image(),
        "label": datasets.ClassLabel(names=names),
        "mask": datasets.Image(),
        "filename": datasets.Value("string"),
    }
    if version == "v2":
        columns.update(generator=[], source=[], split=[])
        features.update(generator=datasets.Value("string"), source=datasets.Value("string"), split=datasets.Value("string"))
    for i, row in enumerate(rows):
        columns["image"].append(
            {"bytes": image_bytes(COLOURS[i % 6], fmt="JPEG" if row["filename"].endswith(".jpg") else "PNG"), "path": None}
        )
        columns["label"].append(names.index(row["cls"]))
        columns["mask"].append({"bytes": mask_bytes(**(mask or {})), "path": None} if row["cls"] == "tampered" else None)
        columns["filename"].append(row["filename"])
        if version == "v2":
            columns["generator"].append(row["generator"])
            columns["source"].append(row["source"])
            columns["split"].append("test")
    dataset = datasets.Dataset.from_dict(columns, features=datasets.Features(features))
    path = root / "data" / "test-00000-of-00001.parquet"
    path.parent.mkdir(parents=True, exist_ok=True)
    if metadata:
        dataset.to_parquet(str(path))
    else:  # a parquet written by another tool: no features metadata, labels as bare integers
        import pyarrow.parquet as pq

        table = dataset.data.table.replace_schema_metadata(None)
        pq.write_table(table, path)
    if card:
        class_label = "\n".join(f"            '{i}': {name}" for i, name in enumerate(names))
        (root / "README.md").write_text(
            "---\nlicense: cc-by-4.0\ndataset_info:\n  features:\n  - name: image\n    dtype: image\n  - name: label\n"
            f"    dtype:\n      class_label:\n        names:\n{class_label}\n  splits:\n  - name: test\n---\n# So-Fake-OOD\n",
            encoding="utf-8",
        )
    return root


SID_FILES = {
    "real": ["9f2c2560a72d603c.jpg", "0a1b2c3d4e5f6a7b.jpg"],
    "full_synthetic": ["full_synthetic_063970.png"],
    "tampered": ["tampered_29551.png", "tampered_00002.png", "tampered_nomask.png"],
}


def build_sidset_folders(root: Path, splits=("test", "validation")) -> Path:
    """``root/<split>/{real,full_synthetic,tampered,masks}`` as the Drive zips extract."""
    for split in splits:
        base = root / split
        for cls, names in SID_FILES.items():
            for i, name in enumerate(names):
                size = (16, 12) if cls == "tampered" else (8, 8)
                write_image(base / cls / name, COLOURS[i % 6], size=size)
        # masks: X.png <-> masks/X_mask.png; one is at half resolution, one tampered image has none
        (base / "masks").mkdir(parents=True, exist_ok=True)
        (base / "masks" / "tampered_29551_mask.png").write_bytes(mask_bytes((16, 12)))
        (base / "masks" / "tampered_00002_mask.png").write_bytes(mask_bytes((8, 6)))
        (base / "real" / "notes.txt").write_text("not an image")
        write_json(base / "description" / "tampered_GT.json", {"tampered_29551.png": "The cup on the table was replaced."})
    return root


def build_sidset_parquet(root: Path, split: str = "validation") -> Path:
    """``root/data/<split>-00000-of-00001.parquet`` with SID-Set's Hub schema (label int64, not ClassLabel)."""
    import datasets

    rows = [("9f2c2560a72d603c", 0), ("full_synthetic_063970", 1), ("tampered_29551", 2), ("tampered_nomask", 2)]
    data = {
        "img_id": [r[0] for r in rows],
        "image": [{"bytes": image_bytes(COLOURS[i], size=(16, 12) if r[1] == 2 else (8, 8)), "path": None} for i, r in enumerate(rows)],
        "mask": [{"bytes": mask_bytes((16, 12)), "path": None} if r[0] == "tampered_29551" else None for r in rows],
        "width": [16 if r[1] == 2 else 8 for r in rows],
        "height": [12 if r[1] == 2 else 8 for r in rows],
        "label": [r[1] for r in rows],
    }
    features = datasets.Features(
        {
            "img_id": datasets.Value("string"),
            "image": datasets.Image(),
            "mask": datasets.Image(),
            "width": datasets.Value("int64"),
            "height": datasets.Value("int64"),
            "label": datasets.Value("int64"),
        }
    )
    path = root / "data" / f"{split}-00000-of-00001.parquet"
    path.parent.mkdir(parents=True, exist_ok=True)
    datasets.Dataset.from_dict(data, features=features).to_parquet(str(path))
    return root
