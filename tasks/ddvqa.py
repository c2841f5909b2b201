"""DD-VQA: common-sense questions and answers about FaceForensics++ frames (ECCV 2024).

The release (github.com/Reality-Defender/Research-DD-VQA) is JSON only::

    <root>/DQ_FF++/{train_set,test_set}/<Method>/<Method>.json    Method: Deepfakes, Face2Face, FaceShifter,
                                                                    FaceSwap, Neuraltexture, Original

mapping a key (``<manipulation id>_<target>_<source>`` for fakes, ``5_<video>`` for originals;
ids 0 Deepfakes, 1 Face2Face, 2 FaceShifter, 3 FaceSwap, 5 Original, 6 NeuralTextures) to
questions ``{qid: {"question", "answer": [one or more references]}}``; qid ``"0"`` is the
image-level question. The frames come from the user's own FF++ download:
``fdrbench data prepare ddvqa`` copies the frame of every question to
``<root>/frames/<key>/<qid>.<ext>`` (a single ``<root>/frames/<key>.<ext>`` per key also works).

``questions=all`` (default): one sample per question, each on its own frame (label still the
image's), as FakeVLM's maintainers describe their DD-VQA evaluation (FakeVLM issue #3: every
question of a video was shown its own frame, in order from the first): the 1,323 test questions
its paper preset scores. ``questions=image``: one sample per key, the image-level question, all
its reference answers in ``Reference.texts`` (``Reference.text`` is the first) and every
question's answers in the parts.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path

from fdrbench.pathsafe import join_names
from fdrbench.protocols import Protocol
from fdrbench.tasks.ddvqa_release import FRAME_INDEX, FRAME_SUFFIXES, KeyEntry, iter_annotations, question_part
from fdrbench.tasks.loading import DatasetTask, as_choice, read_json, relative_to
from fdrbench.tasks.prepare_ddvqa import prepare_ddvqa
from fdrbench.tasks.verdicts import fakevlm
from fdrbench.types import Reference, Sample

PROMPT = "Does the image looks real/fake?"
DOWNLOAD_HINT = (
    "clone github.com/Reality-Defender/Research-DD-VQA into <folder> (giving <folder>/DQ_FF++/), extract FF++ frames, "
    "then run `fdrbench data prepare ddvqa --arg data_dir=<folder> --arg frames_root=<FF++ frames root>` and pass --data-dir <folder>"
)


class DDVQA(DatasetTask):
    name = "ddvqa"
    version = "2"  # 2: per-question samples by default (was the image-level question)
    description = "DD-VQA: FF++ face frames with the image-level real/fake question and human-written reference answers"
    label_space = "binary"
    has_reference_text = True
    prompt = PROMPT
    group_keys = ("manipulation",)
    splits = ("test", "train")
    default_split = "test"
    download_hint = DOWNLOAD_HINT
    extra_options = {"questions": "all"}

    def protocols(self) -> dict[str, Protocol]:
        """``strict``, and ``paper``: FakeVLM's evaluation of DD-VQA (echoed prompt cut at its last '?' as its
        ``eval.py`` does, first-sentence verdict, F1 with real positive), on per-question samples."""
        from dataclasses import replace

        from fdrbench.tasks.paper_protocols import fakevlm_paper

        paper = fakevlm_paper()
        if self.option("questions") == "all":
            samples = "one per question, each on its own frame (FakeVLM's DD-VQA evaluation: 1,323 test questions)"
        else:
            samples = "the image-level question only (questions=image): not the sample set of FakeVLM's DD-VQA figures"
        return {**super().protocols(), "paper": replace(paper, samples=samples)}

    def __init__(self, **options):
        super().__init__(**options)
        if self.option("questions") == "all":
            self.group_keys = ("manipulation", "part")

    #: ``fdrbench data prepare ddvqa``: place the FF++ frame of every question (see :mod:`.prepare_ddvqa`)
    prepare = staticmethod(prepare_ddvqa)

    def samples(self, data_dir: Path, split: str) -> Iterable[Sample]:
        mode = as_choice(self.option("questions"), "questions", ("image", "all"))
        frames = data_dir / "frames"
        index = self.frame_index(frames)
        for entry in iter_annotations(data_dir, split, self.report):
            yield from self.key_samples(entry, mode, frames, index, data_dir)

    def frame_index(self, frames: Path) -> dict:
        """Where each prepared frame came from (``frames/index.json``, written by ``data prepare``), if present."""
        path = frames / FRAME_INDEX
        if not path.is_file():
            return {}
        data = read_json(path)
        return data.get("frames", {}) if isinstance(data, dict) else {}

    def frame_path(self, frames: Path, key: str, qid: str) -> Path:
        """The prepared frame of one question (``frames/<key>/<qid>.<ext>``, else ``frames/<key>.<ext>``),
        kept inside the frames folder: a frame that is a link out of it is refused."""
        candidates = [(key, f"{qid}{s}") for s in FRAME_SUFFIXES] + [(f"{key}{s}",) for s in FRAME_SUFFIXES]
        for names in candidates:
            candidate = frames.joinpath(*names)
            if candidate.is_file():
                return join_names(frames, *names, what="frame name", record=f"{key}/{qid}")
        return join_names(frames, key, f"{qid}.png", what="frame name", record=f"{key}/{qid}")

    def key_samples(self, entry: KeyEntry, mode: str, frames: Path, index: dict, data_dir: Path) -> Iterator[Sample]:
        key, label, method, qa, path = entry.key, entry.label, entry.method, entry.qa, entry.path
        image_answer = qa["0"]["answer"][0]
        if fakevlm(image_answer) not in (None, label):
            self.report.add("image_answers_disagreeing_with_key", key)
        answers = {qid: item["answer"] for qid, item in qa.items()}
        questions = {qid: item["question"] for qid, item in qa.items()}
        for qid in qa if mode == "all" else ["0"]:
            frame = self.frame_path(frames, key, qid)
            sample_id = key if mode == "image" else f"{key}/{qid}"
            if not self.image_present(frame, sample_id, f"{path} (frame of key {key}, question {qid}; see `fdrbench data prepare ddvqa`)"):
                continue
            question = qa[qid]["question"]
            yield Sample(
                id=sample_id,
                label=label,
                image=frame,
                image_ref=relative_to(frame, data_dir),
                group={"manipulation": method, "part": question_part(question)},
                question=question,
                reference=Reference(text=answers[qid][0], texts=list(answers[qid]), parts={"answers": answers, "questions": questions}),
                meta={"key": key, "qid": qid, "source_frame": (index.get(key) or {}).get(qid)},
            )
