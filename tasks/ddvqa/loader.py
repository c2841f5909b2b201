"""DD-VQA's released annotation files and the prepared frames, read into Samples.

The release (github.com/Reality-Defender/Research-DD-VQA) is JSON only::

    <root>/DQ_FF++/{train_set,test_set}/<Method>/<Method>.json    Method: Deepfakes, Face2Face, FaceShifter,
                                                                    FaceSwap, Neuraltexture, Original

mapping a key (``<manipulation id>_<target>_<source>`` for fakes, ``5_<video>`` for originals;
ids 0 Deepfakes, 1 Face2Face, 2 FaceShifter, 3 FaceSwap, 5 Original, 6 NeuralTextures) to
questions ``{qid: {"question", "answer": [one or more references]}}``; qid ``"0"`` is the
image-level question. The label is read from the key's id (5 = real = 0, every other id fake = 1)
and checked against the file it was released in. The frames come from the user's own FF++
download: the prepare step (:mod:`fdrbench.tasks.ddvqa.prepare`, which reads the same JSON files)
copies the frame of every question to ``<root>/frames/<key>/<qid>.<ext>`` (a single
``<root>/frames/<key>.<ext>`` per key also works).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from fdrbench.errors import DataError
from fdrbench.pathsafe import check_name, join_names
from fdrbench.tasks.common.loading import LoadContext, LoadReport, SplitNotFound, expect, expect_str, first_existing, read_json, relative_to
from fdrbench.types import FAKE, REAL, Reference, Sample
from fdrbench.verdicts import first_sentences_verdict

SPLIT_HINT = "clone github.com/Reality-Defender/Research-DD-VQA into <folder> (giving <folder>/DQ_FF++/)"

#: released folder name -> FF++ method name (the ``manipulation`` group)
METHOD_FOLDERS = {
    "Deepfakes": "Deepfakes",
    "Face2Face": "Face2Face",
    "FaceShifter": "FaceShifter",
    "FaceSwap": "FaceSwap",
    "Neuraltexture": "NeuralTextures",
    "Original": "Original",
}
#: key prefix -> FF++ method; 4 occurs only in the release's total_fake.json and is undocumented
MANIPULATION_IDS = {"0": "Deepfakes", "1": "Face2Face", "2": "FaceShifter", "3": "FaceSwap", "5": "Original", "6": "NeuralTextures"}
REAL_ID = "5"
SPLIT_FOLDERS = {"train": "train_set", "test": "test_set"}
FRAME_SUFFIXES = (".png", ".jpg", ".jpeg")
FRAME_INDEX = "index.json"


def annotation_root(data_dir: Path) -> Path:
    found = first_existing((data_dir / "DQ_FF++", data_dir))
    return found if found is not None and any((found / f).is_dir() for f in SPLIT_FOLDERS.values()) else data_dir / "DQ_FF++"


def key_label(key: str, folder: str, path: Path) -> tuple[int, str]:
    """(label, manipulation) of a key, checked against the folder it was released in."""
    prefix = key.split("_", 1)[0]
    if prefix not in MANIPULATION_IDS:
        raise DataError(f"unknown manipulation id {prefix!r}; expected one of {sorted(MANIPULATION_IDS)} (5 = real)", path=path, record=key)
    method = MANIPULATION_IDS[prefix]
    if method != METHOD_FOLDERS[folder]:
        raise DataError(f"key prefix {prefix} means {method}, but the key is in the {folder} file", path=path, record=key)
    return (REAL if prefix == REAL_ID else FAKE), method


def question_part(question: str) -> str:
    """``image`` for the image-level question, else the face part it asks about (skin, eyes, ...)."""
    lowered = question.lower()
    for part in ("eyebrows", "eyes", "skin", "nose", "mouth"):
        if f"person's {part}" in lowered:
            return part
    return "image"


def read_qa(value: object, path: Path, key: str) -> dict[str, dict]:
    """One key's ``{qid: {"question": str, "answer": [str, ...]}}``, validated, in numeric qid order."""
    expect(isinstance(value, dict) and bool(value), "expected an object of question id -> {question, answer}", path, key)
    out = {}
    for qid in sorted(value, key=lambda q: (not q.isdigit(), int(q) if q.isdigit() else 0, q)):
        qa = value[qid]
        record = f"{key}/{qid}"
        check_name(qid, "question id", path, record)  # it names the frame file <key>/<qid>.<ext>
        expect(isinstance(qa, dict), "expected {'question': str, 'answer': [str, ...]}", path, record)
        question = expect_str(qa.get("question"), "'question'", path, record)
        answers = qa.get("answer")
        expect(
            isinstance(answers, list) and bool(answers) and all(isinstance(a, str) and a.strip() for a in answers),
            "expected 'answer', a non-empty list of reference answers",
            path,
            record,
        )
        out[qid] = {"question": question, "answer": list(answers)}
    expect("0" in out, "expected question id '0', the image-level question", path, key)
    return out


@dataclass(frozen=True)
class KeyEntry:
    """One annotated image: its key, label, FF++ method, questions and the file it came from."""

    key: str
    label: int
    method: str
    qa: dict
    path: Path


def iter_annotations(data_dir: Path, split: str, report: LoadReport) -> Iterator[KeyEntry]:
    """Every key of one split, in method-folder then key order, validated."""
    split_dir = annotation_root(data_dir) / SPLIT_FOLDERS[split]
    if not split_dir.is_dir():
        raise SplitNotFound(f"no {SPLIT_FOLDERS[split]}/ folder", path=split_dir.parent, hint=SPLIT_HINT)
    for folder in METHOD_FOLDERS:
        path = split_dir / folder / f"{folder}.json"
        if not path.is_file():
            report.add("missing_method_files", str(path))
            continue
        data = read_json(path)
        expect(isinstance(data, dict), f"expected a JSON object of key -> questions, got {type(data).__name__}", path, None)
        for key in sorted(data):
            check_name(key, "key", path, key)  # it names the frames folder <key>/
            label, method = key_label(key, folder, path)
            yield KeyEntry(key, label, method, read_qa(data[key], path, key), path)


# --------------------------------------------------------------------------- samples


def frame_index(frames: Path) -> dict:
    """Where each prepared frame came from (``frames/index.json``, written by ``data prepare``), if present."""
    path = frames / FRAME_INDEX
    if not path.is_file():
        return {}
    data = read_json(path)
    return data.get("frames", {}) if isinstance(data, dict) else {}


def frame_path(frames: Path, key: str, qid: str) -> Path:
    """The prepared frame of one question (``frames/<key>/<qid>.<ext>``, else ``frames/<key>.<ext>``),
    kept inside the frames folder: a frame that is a link out of it is refused."""
    candidates = [(key, f"{qid}{s}") for s in FRAME_SUFFIXES] + [(f"{key}{s}",) for s in FRAME_SUFFIXES]
    for names in candidates:
        candidate = frames.joinpath(*names)
        if candidate.is_file():
            return join_names(frames, *names, what="frame name", record=f"{key}/{qid}")
    return join_names(frames, key, f"{qid}.png", what="frame name", record=f"{key}/{qid}")


def split_samples(context: LoadContext, data_dir: Path, split: str, questions: str) -> Iterator[Sample]:
    """Every sample of one split: one per question (``questions="all"``) or per key (``"image"``)."""
    frames = data_dir / "frames"
    index = frame_index(frames)
    for entry in iter_annotations(data_dir, split, context.report):
        yield from key_samples(context, entry, questions, frames, index, data_dir)


def key_samples(context: LoadContext, entry: KeyEntry, questions: str, frames: Path, index: dict, data_dir: Path) -> Iterator[Sample]:
    key, label, method, qa, path = entry.key, entry.label, entry.method, entry.qa, entry.path
    image_answer = qa["0"]["answer"][0]
    if first_sentences_verdict(image_answer, sentences=2) not in (None, label):
        context.report.add("image_answers_disagreeing_with_key", key)
    answers = {qid: item["answer"] for qid, item in qa.items()}
    texts = {qid: item["question"] for qid, item in qa.items()}
    for qid in qa if questions == "all" else ["0"]:
        frame = frame_path(frames, key, qid)
        sample_id = key if questions == "image" else f"{key}/{qid}"
        if not context.image_present(frame, sample_id, f"{path} (frame of key {key}, question {qid}; see `fdrbench data prepare ddvqa`)"):
            continue
        question = qa[qid]["question"]
        yield Sample(
            id=sample_id,
            label=label,
            image=frame,
            image_ref=relative_to(frame, data_dir),
            group={"manipulation": method, "part": question_part(question)},
            question=question,
            reference=Reference(text=answers[qid][0], texts=list(answers[qid]), parts={"answers": answers, "questions": texts}),
            meta={"key": key, "qid": qid, "source_frame": (index.get(key) or {}).get(qid)},
        )
