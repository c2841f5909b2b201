"""A miniature DD-VQA release (``DQ_FF++``), and optionally an FF++ frames tree to prepare it from.

The quirks kept: all six method folders, including ``Neuraltexture`` spelt as released; keys
with two to four questions; several reference answers to the image-level question; the
release's ``split/test.json`` of video pairs beside the annotation folders.
"""

from __future__ import annotations

from pathlib import Path

from fdrbench.tasks.common.miniature import COLOURS, write_image, write_json
from fdrbench.tasks.ddvqa.loader import MANIPULATION_IDS, REAL_ID
from fdrbench.tasks.ddvqa.prepare import FFPP_FOLDERS

QUESTIONS = [
    "Does the image looks real/fake?",
    "Does the person's skin look real/fake?",
    "Do the person's eyebrows look real/fake?",
    "Do the person's eyes look real/fake?",
    "Does the person's nose look real/fake?",
    "Does the person's mouth look real/fake?",
]
#: split folder -> method folder (all six, as released) -> keys; a key's number of questions is 2 + its index % 3
KEYS = {
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


def record(key: str, n_questions: int) -> dict:
    """One key's questions and answers; the image-level question has two reference answers."""
    verdict = "real" if key.startswith("5_") else "fake"
    out = {}
    for qid in range(n_questions):
        question = QUESTIONS[qid]
        subject = "The image looks" if qid == 0 else f"The person's {question.split(chr(39) + 's ')[1].split(' look')[0]} look"
        answers = [f"{subject} {verdict}. Reference one for {key}/{qid}."]
        if qid == 0:
            answers.append(f"{subject} {verdict}. A second annotator on {key}.")
        out[str(qid)] = {"question": question, "answer": answers}
    return out


def build(root: Path, frames_root: Path | None = None, frames_per_video: int = 5) -> Path:
    """``root/DQ_FF++`` as released; with ``frames_root``, an FF++ frames tree in the extraction layout."""
    for split, methods in KEYS.items():
        for method, keys in methods.items():
            data = {key: record(key, 2 + i % 3) for i, key in enumerate(keys)}
            write_json(root / "DQ_FF++" / split / method / f"{method}.json", data)
    write_json(root / "DQ_FF++" / "split" / "test.json", [["114", "102"], ["078", "955"]])
    if frames_root is not None:
        for methods in KEYS.values():
            for keys in methods.values():
                for key in keys:
                    prefix, _, video = key.partition("_")
                    base = (
                        frames_root / "original_sequences" / "youtube" / "c23" / "images" / video
                        if prefix == REAL_ID
                        else frames_root / "manipulated_sequences" / FFPP_FOLDERS[MANIPULATION_IDS[prefix]] / "c23" / "images" / video
                    )
                    for f in range(frames_per_video):
                        write_image(base / f"{f:04d}.png", COLOURS[f % 6])
    return root
