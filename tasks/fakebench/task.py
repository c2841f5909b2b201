"""FakeBench's tasks: ``fakebench`` (FakeClass, 6,000 detection questions) and ``fakebench_fakeclue``
(its interpretation / reasoning queries on the 3,000 fakes; not FakeVLM's FakeClue dataset)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from fdrbench.protocols import Protocol
from fdrbench.tasks.common.loading import DatasetTask, as_choice, expect, expect_str, relative_to
from fdrbench.tasks.fakebench import loader, paper
from fdrbench.types import FAKE, Reference, Sample

WHAT_QUESTION = "What is the authenticity of this image, fake or real?"
MODES = {"faultfinding": "faultfinding_mode", "inference": "inference_mode"}


class FakeBench(DatasetTask):
    """FakeBench FakeClass: one real/fake question per image (what / yes-no), 10 generators."""

    name = "fakebench"
    version = "1"
    description = "FakeBench FakeClass: 6,000 real/fake questions (what, yes/no) on 3,000 fakes of 10 generators and 3,000 reals"
    prompt = WHAT_QUESTION
    group_keys = ("generator", "question", "real_source")
    download_hint = loader.DOWNLOAD_HINT

    def protocols(self) -> dict[str, Protocol]:
        """``strict``, and ``paper``: FakeBench's keyword verdicts and its accuracy columns."""
        return {**super().protocols(), "paper": paper.paper_protocol()}

    def parse_answer(self, text: str | None, sample: Sample) -> int | None:
        """FakeBench's keyword rule, read against the sample's own question (a yes means fake or real by the question)."""
        return paper.verdict(text, sample.question)

    def samples(self, data_dir: Path, split: str) -> Iterator[Sample]:
        path = loader.find_file(data_dir, "FakeClass.json")
        folders = loader.ImageFolders(data_dir)
        seen: set[str] = set()
        for record, item, label, kind in loader.fakeclass_records(path):
            image_id = item["image_id"]
            answer = item.get("answer")
            if not isinstance(answer, str) or answer.strip().lower() != loader.expected_answer(kind, label):
                self.report.add("answers_disagreeing_with_authenticity", record)
            expect(image_id not in seen, f"image {image_id!r} is listed twice", path, record)
            seen.add(image_id)
            image = folders.path(label, image_id, path, record)
            if not self.context.image_present(image, record, path):
                continue
            if label == FAKE:
                generator = loader.generator_of(image_id)
                if generator is None:
                    self.report.add("fakes_without_generator_prefix", image_id)
                group = {"generator": generator or "unknown", "question": kind}
            else:
                group = {"question": kind, "real_source": loader.real_source(image_id)}
            yield Sample(
                id=image_id,
                label=label,
                image=image,
                image_ref=relative_to(image, data_dir),
                question=item["question"],
                group=group,
                meta={"fakebench_authenticity": item["authenticity"], "expected_answer": answer},
            )


class FakeBenchFakeClue(DatasetTask):
    """FakeBench's own FakeClue subtask (interpretation / reasoning on its fakes), not FakeVLM's FakeClue."""

    name = "fakebench_fakeclue"
    version = "1"
    description = "FakeBench's FakeClue subtask (not FakeVLM's FakeClue): interpretation or reasoning prompts on its 3,000 fakes"
    has_reference_text = True
    group_keys = ("generator",)
    download_hint = loader.DOWNLOAD_HINT
    extra_options = {"mode": "inference"}

    def protocols(self) -> dict[str, Protocol]:
        """``strict``, and ``paper``: the text scores FakeBench reports, where references are released."""
        return {**super().protocols(), "paper": paper.interpretation_protocol()}

    def samples(self, data_dir: Path, split: str) -> Iterator[Sample]:
        mode = MODES[as_choice(self.option("mode"), "mode", tuple(MODES))]
        path = loader.find_file(data_dir, "FakeClue.json")
        folders = loader.ImageFolders(data_dir)
        for i, item in enumerate(loader.read_records(path)):
            image_id = expect_str(item.get("image_id"), "'image_id'", path, f"#{i}")
            record = f"#{i} ({image_id})"
            question = expect_str(item.get(mode), f"'{mode}' (the prompt of this mode)", path, record)
            clues = item.get("telltale_clues")
            expect(clues is None or isinstance(clues, str), "'telltale_clues' must be a string", path, record)
            image = folders.path(FAKE, image_id, path, record)
            if not self.context.image_present(image, record, path):
                continue
            if not (clues or "").strip():
                self.report.add("fakes_without_released_references", image_id)
            generator = item.get("generation_model")
            categories = item.get("content_categories")
            yield Sample(
                id=image_id,
                label=FAKE,
                image=image,
                image_ref=relative_to(image, data_dir),
                question=question,
                group={"generator": str(generator).lower() if isinstance(generator, str) and generator else "unknown"},
                reference=Reference(
                    text=clues.strip() if clues and clues.strip() else None,
                    parts={
                        "image_caption": item.get("image_caption"),
                        "content_categories": [c.strip() for c in categories.split(",")] if isinstance(categories, str) else [],
                        "telltale_categories": item.get("telltale_categories"),
                    },
                ),
                meta={"mode": mode},
            )
