"""``fdrbench judge``: grade a run's explanations, store judgements, keep the ledger, re-score.

Each sample is asked once (temperature 0 by default); an answer that is not valid JSON or scores
outside the rubric's scale is sent back with the problem named, up to ``max_attempts`` answers,
after which the judgement is recorded as ``missing`` (never as 0). A re-run skips samples already
graded and asks again, bypassing the cache, for those recorded missing.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fdrbench.api.task import Task
from fdrbench.backends.openai_client import APICallError, ChatClient, ClientSettings, Ledger
from fdrbench.errors import FdrbenchError
from fdrbench.hashing import config_hash
from fdrbench.judge.messages import applicable, build_messages, correction, references
from fdrbench.judge.rubric import JudgeOutputError, Rubric, load_rubric
from fdrbench.judge.store import answer_key, judged_text, judgements_path, load_judgements
from fdrbench.manifest import now_iso
from fdrbench.progress import progress_bar
from fdrbench.record import Record
from fdrbench.results import JudgeInfo, Manifest, RunDir
from fdrbench.store import PredictionWriter


@dataclass(frozen=True)
class JudgeSettings:
    """How to judge; ``client`` says where the judge is served and how requests are retried and cached."""

    judge_model: str
    client: ClientSettings = field(default_factory=ClientSettings)
    rubric: str = "auto"
    temperature: float = 0.0
    max_tokens: int = 1024
    max_attempts: int = 3
    json_mode: bool = True
    images: bool = True
    image_max_side: int | None = None
    seed: int | None = None
    price_in: float | None = None
    price_out: float | None = None
    data_dir: Path | None = None
    restart: bool = False
    show_progress: bool = True

    def judge_config(self, rubric: Rubric) -> dict:
        """What determines the judgements (a different value starts a new judgements file)."""
        return {
            "judge_model": self.judge_model,
            "rubric": rubric.describe(),
            "temperature": self.temperature,
            "max_tokens": self.max_tokens,
            "max_attempts": self.max_attempts,
            "json_mode": self.json_mode,
            "images": self.images,
            "image_max_side": self.image_max_side,
            "seed": self.seed,
        }


@dataclass
class JudgeSummary:
    run_dir: Path
    rubric: str
    counts: dict[str, int] = field(default_factory=dict)
    ledger: dict[str, Any] = field(default_factory=dict)


def choose_rubric(spec: str, task: Task, records: dict[str, Record]) -> Rubric:
    """``auto``: the rubric the task's ``judge_rubric`` hook names; else the reference rubric when
    the samples carry reference texts."""
    if spec != "auto":
        return load_rubric(spec)
    refs = [r.truth.reference for r in records.values()]
    named = task.judge_rubric(refs)
    if named:
        return load_rubric(named)
    if any(references(ref) for ref in refs):
        return load_rubric("reference")
    raise FdrbenchError("this run's samples carry no reference explanation or annotation to judge against; pass --rubric explicitly")


def _judgement(record: Record, rubric: Rubric, settings: JudgeSettings, status: str, **fields: Any) -> dict:
    return {
        "sample_id": record.sample_id,
        "status": status,
        "score": fields.pop("score", None),
        "criteria": fields.pop("criteria", None),
        "reasons": fields.pop("reasons", None),
        "total": fields.pop("total", None),
        "max_total": rubric.max_total,
        "attempts": fields.pop("attempts", 0),
        "error": fields.pop("error", None),
        "usage": fields.pop("usage", Ledger().to_dict()),
        "judge_model": settings.judge_model,
        "rubric": rubric.ref,
        "rubric_sha256": rubric.sha256,
        "answer_sha256": answer_key(record),
        **fields,
    }


def judge_one(client, rubric: Rubric, record: Record, image, settings: JudgeSettings, use_cache: bool) -> dict:
    """Grade one prediction record; never raises for a judge failure (it is recorded as missing)."""
    truth = record.truth
    reason = applicable(rubric, truth)
    if reason is not None:
        return _judgement(record, rubric, settings, "not_applicable", error=reason)
    explanation = judged_text(record)
    if record.error is not None or not explanation:
        minimum = {c.key: rubric.minimum for c in rubric.criteria}
        return _judgement(record, rubric, settings, "no_explanation", score=0.0, criteria=minimum, total=sum(minimum.values()))
    messages = build_messages(rubric, explanation, truth, image, settings.image_max_side)
    usage = Ledger()
    problem = None
    for attempt in range(1, settings.max_attempts + 1):
        request: dict[str, Any] = {
            "model": settings.judge_model,
            "messages": messages,
            "temperature": settings.temperature,
            "max_tokens": settings.max_tokens,
        }
        if settings.json_mode:
            request["response_format"] = {"type": "json_object"}
        if settings.seed is not None:
            request["seed"] = settings.seed
        try:
            result = client.complete(request, use_cache=use_cache)
        except APICallError as exc:
            return _judgement(record, rubric, settings, "missing", attempts=attempt, error=str(exc), usage=usage.to_dict())
        usage.record(result)
        try:
            scores, reasons = rubric.parse(result.text)
        except JudgeOutputError as exc:
            problem = str(exc)
            messages = [*messages, {"role": "assistant", "content": result.text}, {"role": "user", "content": correction(problem, rubric)}]
            continue
        return _judgement(
            record,
            rubric,
            settings,
            "ok",
            score=rubric.normalise(scores),
            criteria=scores,
            reasons=reasons,
            total=sum(scores.values()),
            attempts=attempt,
            usage=usage.to_dict(),
        )
    return _judgement(
        record, rubric, settings, "missing", attempts=settings.max_attempts, error=f"no usable answer: {problem}", usage=usage.to_dict()
    )


def _needs_judging(record: Record, judgement: dict | None) -> bool:
    """Not judged yet, judged missing, or predicted again since it was judged."""
    return judgement is None or judgement.get("status") == "missing" or judgement.get("answer_sha256") != answer_key(record)


def _chunks(items: list, size: int) -> Iterator[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _samples_by_id(manifest: Manifest, task: Task, data_dir: Path | None) -> dict:
    """The run's samples, read from ``--data-dir`` or the task's default data folder. The folder a
    stored run records is never used: a results folder must not choose what is read and sent. A
    perturbed run's judge sees the image its detector saw (the spec is only parsed, never run as code)."""
    from fdrbench.perturb import perturb_samples

    try:
        samples = task.load(data_dir, manifest.task_info.split)
        if manifest.perturbation is not None:
            samples = perturb_samples(samples, manifest.perturbation.spec, manifest.settings.seed)
        return {s.id: s for s in samples}
    except FdrbenchError as exc:
        raise FdrbenchError(
            f"the rubric shows the judge the images, which are read from the task's data: {exc}\n  hint: pass --data-dir, or --no-images"
        ) from exc


def _ledger(judgements: dict[str, dict], settings: JudgeSettings) -> dict:
    """Judgements per status, and calls and tokens summed over every judgement's usage."""
    totals = Ledger()
    counts: dict[str, int] = {}
    for judgement in judgements.values():
        counts[judgement["status"]] = counts.get(judgement["status"], 0) + 1
        usage = judgement.get("usage") or {}
        totals.add(**{name: int(value) for name, value in usage.items() if name in totals.to_dict()})
    cost = None
    if settings.price_in is not None or settings.price_out is not None:
        cost = round((totals.prompt_tokens * (settings.price_in or 0.0) + totals.completion_tokens * (settings.price_out or 0.0)) / 1e6, 6)
    return {
        "counts": counts,
        **totals.to_dict(),
        "cost_usd": cost,
        "price_per_million": {"input": settings.price_in, "output": settings.price_out},
    }


def _check_config(run_dir: Path, manifest: Manifest, config: dict, settings: JudgeSettings) -> None:
    path = judgements_path(run_dir)
    previous = manifest.judge.config_hash if manifest.judge is not None else None
    if not path.is_file() or previous in (None, config_hash(config)):
        return
    if not settings.restart:
        raise FdrbenchError(
            f"{path} holds judgements made with other judge settings (judge model, rubric or decoding); "
            f"pass --restart to set them aside and judge again"
        )
    path.rename(path.with_name(f"judgements.{previous[:8]}.jsonl"))


def judge_run(run_dir: Path, settings: JudgeSettings) -> JudgeSummary:
    """Judge every prediction of ``run_dir`` not yet judged; update the manifest and re-score."""
    from fdrbench.stages.score import score_run_dir

    run = RunDir(run_dir)
    run_dir = run.path
    manifest = run.manifest()
    records, _ = run.records()
    if not records:
        raise FdrbenchError(f"{run_dir} has no predictions to judge")
    task = run.task(manifest)
    rubric = choose_rubric(settings.rubric, task, records)
    config = settings.judge_config(rubric)
    _check_config(run_dir, manifest, config, settings)
    started, t0 = now_iso(), time.perf_counter()
    # the lock comes first: a second judge of the same run stops here instead of judging the same samples
    with PredictionWriter(judgements_path(run_dir)) as writer:
        previous = load_judgements(run_dir)
        todo = [record for sid, record in sorted(records.items()) if _needs_judging(record, previous.get(sid))]
        samples = _samples_by_id(manifest, task, settings.data_dir) if todo and settings.images and rubric.uses.get("image") else {}
        client = ChatClient(settings.client)

        def grade(record: Record) -> dict:
            sample = samples.get(record.sample_id)
            image = None
            if sample is not None:
                try:
                    image = sample.load_image()
                except Exception:  # an unreadable image is graded from the text, as if none were given
                    image = None
                finally:
                    sample.release_image()
            retry = previous.get(record.sample_id, {}).get("status") == "missing"
            return judge_one(client, rubric, record, image, settings, use_cache=not retry)

        try:
            with (
                progress_bar(len(todo), f"judging {run_dir.name}", unit="sample", enabled=settings.show_progress) as bar,
                ThreadPoolExecutor(max_workers=settings.client.concurrency, thread_name_prefix="fdrbench-judge") as pool,
            ):
                for chunk in _chunks(todo, settings.client.concurrency * 4):
                    writer.write(list(pool.map(grade, chunk)))
                    bar.advance(len(chunk))
        finally:
            client.close()
    judgements = load_judgements(run_dir)
    ledger = _ledger(judgements, settings)
    sessions = [
        *(manifest.judge.sessions if manifest.judge is not None else []),
        {"started": started, "ended": now_iso(), "n_judged": len(todo), "wall_s": round(time.perf_counter() - t0, 3)},
    ]
    manifest.judge = JudgeInfo(
        **config, config_hash=config_hash(config), client=settings.client.describe(), ledger=ledger, sessions=sessions
    )
    run.write_manifest(manifest)
    score_run_dir(run_dir)
    return JudgeSummary(run_dir, rubric.ref, ledger["counts"], ledger)
