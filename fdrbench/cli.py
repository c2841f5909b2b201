"""The ``fdrbench`` command line.

Only typer is imported at start-up; each command imports what it needs when it runs, so
``fdrbench --help`` stays fast. Errors the user can fix print one clear message and exit 2;
a run stopped by its failure budget exits 3 with its predictions kept.
"""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable
from pathlib import Path

import typer

from fdrbench import __version__

app = typer.Typer(
    help="Benchmark explainable AI-generated image detectors: run, score, compare and publish.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _err(message: str) -> None:
    from fdrbench.redact import redact_text

    typer.secho(f"error: {redact_text(message)}", fg=typer.colors.RED, err=True)


def handle_errors(fn: Callable) -> Callable:
    """Turn fdrbench's own errors, and the system's (a full disk, a read-only folder), into a
    message and an exit code instead of a traceback; every message has its secrets blanked."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        from fdrbench.errors import FdrbenchError, RunAborted, os_error_text

        try:
            return fn(*args, **kwargs)
        except RunAborted as exc:
            _err(str(exc))
            raise typer.Exit(3) from exc
        except FdrbenchError as exc:
            _err(str(exc))
            raise typer.Exit(2) from exc
        except OSError as exc:
            _err(os_error_text(exc))
            raise typer.Exit(2) from exc
        except KeyboardInterrupt as exc:
            _err("interrupted; finished batches are saved - re-run the same command to resume")
            raise typer.Exit(130) from exc

    return wrapper


def _version(value: bool) -> None:
    if value:
        typer.echo(f"fdrbench {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Print the version and exit."),
) -> None:
    """fdrbench command line."""


# --------------------------------------------------------------------------- run / score / show


@app.command()
@handle_errors
def run(
    model: str = typer.Option(..., "--model", "-m", help="Adapter name (fdrbench list models), 'pkg.module:Class' or 'file.py:Class'."),
    task: str = typer.Option(..., "--task", "-t", help="Task name (fdrbench list tasks)."),
    data_dir: Path | None = typer.Option(None, "--data-dir", "-d", help="Dataset folder; default $FDRBENCH_DATA/<task> or the user cache."),
    split: str | None = typer.Option(None, help="Split to evaluate; the task's default when omitted."),
    limit: int | None = typer.Option(None, help="Evaluate a seeded, label-stratified subset of this many samples."),
    batch_size: int = typer.Option(8, "--batch-size", "-b", min=1, help="Samples per predict() call."),
    out: Path = typer.Option(Path("results"), "--out", "-o", help="Results root; the run goes to <out>/<task>/<model>/<run_id>/."),
    run_id: str | None = typer.Option(None, help="Run folder name; default derived from the settings, so a re-run resumes."),
    name: str | None = typer.Option(None, help="Model name for the results folder and leaderboard (default: the adapter's)."),
    seed: int = typer.Option(0, help="Seed for sampling, subsets and bootstrap intervals."),
    device: str = typer.Option("auto", help="auto, cpu, cuda, cuda:N or mps."),
    model_arg: list[str] | None = typer.Option(None, "--model-arg", "-M", help="Adapter setting key=value (repeatable)."),
    task_arg: list[str] | None = typer.Option(None, "--task-arg", "-T", help="Task option key=value (repeatable)."),
    max_failures: str = typer.Option("10%", help="Stop after more failed samples than this count or percentage; 'none' for no limit."),
    protocol: list[str] | None = typer.Option(None, "--protocol", "-p", help="Scoring protocol(s); default all the task defines."),
    n_boot: int = typer.Option(1000, min=0, help="Bootstrap resamples for confidence intervals (0 disables them)."),
    retry_failed: bool = typer.Option(False, help="Predict again the samples that failed with an error in an earlier session."),
    skip_missing: bool = typer.Option(False, help="Skip samples whose image file is missing (counted and reported) instead of stopping."),
    progress: bool = typer.Option(True, help="Show a progress bar."),
) -> None:
    """Evaluate a detector on a task: infer (resumable), score, print the headline table."""
    from fdrbench.detector import parse_kv_args
    from fdrbench.pipeline import RunConfig
    from fdrbench.pipeline import run as run_pipeline
    from fdrbench.report import print_scores

    task_args = parse_kv_args(task_arg, "--task-arg")
    if skip_missing:
        task_args["skip_missing"] = True
    config = RunConfig(
        model=model,
        task=task,
        model_args=parse_kv_args(model_arg),
        task_args=task_args,
        data_dir=data_dir,
        split=split,
        limit=limit,
        batch_size=batch_size,
        out=out,
        run_id=run_id,
        name=name,
        seed=seed,
        device=device,
        max_failures=None if max_failures.lower() == "none" else max_failures,
        protocols=protocol or None,
        n_boot=n_boot,
        show_progress=progress,
        retry_failed=retry_failed,
    )
    result = run_pipeline(config)
    if result.scores is not None:
        print_scores(result.scores)
        typer.echo(f"run folder: {result.run_dir}")


@app.command()
@handle_errors
def score(
    run_dir: Path = typer.Argument(..., help="A run folder (results/<task>/<model>/<run_id>)."),
    protocol: list[str] | None = typer.Option(None, "--protocol", "-p", help="Protocol(s) to compute; default those of the run."),
    n_boot: int | None = typer.Option(None, min=0, help="Bootstrap resamples; default as the run was scored."),
    seed: int | None = typer.Option(None, help="Bootstrap seed; default the run's."),
) -> None:
    """Re-score a run from its stored predictions (no model, no GPU, no dataset needed)."""
    from fdrbench.pipeline import score_run_dir
    from fdrbench.report import print_scores

    scores, _ = score_run_dir(run_dir, protocol or None, n_boot, seed)
    print_scores(scores)


@app.command()
@handle_errors
def show(
    run_dir: Path = typer.Argument(..., help="A run folder."),
    protocol: list[str] | None = typer.Option(None, "--protocol", "-p", help="Protocol(s) to show; default all."),
    groups: bool = typer.Option(True, help="Include per-group rows."),
    as_json: bool = typer.Option(False, "--json", help="Print manifest and scores as JSON."),
) -> None:
    """Print a run's provenance and scores."""
    from fdrbench.report import print_manifest, print_scores
    from fdrbench.store import SCORES, read_manifest, read_scores

    manifest = read_manifest(run_dir)
    scores = read_scores(run_dir) if (run_dir / SCORES).exists() else None
    if as_json:
        typer.echo(json.dumps({"manifest": manifest, "scores": scores}, indent=2))
        return
    print_manifest(manifest)
    if scores is None:
        typer.echo("no scores.json yet: the run has not finished; `fdrbench score RUN_DIR` scores what is there")
        return
    print_scores(scores, protocols=protocol or None, groups=groups)


@app.command()
@handle_errors
def compare(
    runs: list[Path] = typer.Argument(..., help="Two or more run folders; each is compared with the first."),
    protocol: str = typer.Option("strict", "--protocol", "-p", help="Protocol to score both runs under."),
    metric: list[str] | None = typer.Option(None, "--metric", help="Metric(s) to compare; default the protocol's."),
    n_boot: int = typer.Option(1000, min=0, help="Paired bootstrap resamples."),
    seed: int = typer.Option(0, help="Bootstrap seed."),
    as_json: bool = typer.Option(False, "--json", help="Print the comparison as JSON."),
) -> None:
    """Paired comparison of runs on their shared samples: bootstrap CI of each difference, McNemar for accuracy."""
    from fdrbench.compare import compare_runs, print_comparison

    result = compare_runs(runs, protocol, metric or None, n_boot, seed)
    if as_json:
        typer.echo(json.dumps(result, indent=2))
    else:
        print_comparison(result)


@app.command("list")
@handle_errors
def list_cmd(kind: str = typer.Argument(..., help="models (adapters) or tasks")) -> None:
    """List the adapters or tasks fdrbench knows (built in and from installed plugins)."""
    from rich.console import Console
    from rich.table import Table

    from fdrbench.registry import ADAPTERS, TASKS

    registries = {"models": ADAPTERS, "adapters": ADAPTERS, "tasks": TASKS}
    if kind not in registries:
        from fdrbench.errors import FdrbenchError

        raise FdrbenchError(f"fdrbench list takes 'models' or 'tasks', got {kind!r}")
    table = Table(header_style="bold")
    table.add_column("name")
    table.add_column("description")
    table.add_column("source", style="dim")
    for entry in registries[kind].entries():
        table.add_row(entry.name, entry.summary, entry.source)
    Console().print(table)


@app.command()
@handle_errors
def train(
    adapter: str = typer.Argument(..., help="Adapter with a training recipe (e.g. spectral)."),
    action: str = typer.Argument("fit", help="Recipe action (most recipes only have 'fit')."),
    task: str = typer.Option(..., "--task", "-t", help="Task whose split to train on."),
    data_dir: Path | None = typer.Option(None, "--data-dir", "-d", help="Dataset folder; default as for run."),
    split: str = typer.Option("train", help="Split to train on."),
    out: Path | None = typer.Option(None, "--out", "-o", help="Where to write the trained parameters (recipe default when omitted)."),
    limit: int | None = typer.Option(None, help="Train on a seeded, label-stratified subset."),
    seed: int = typer.Option(0),
    device: str = typer.Option("auto"),
    train_arg: list[str] | None = typer.Option(None, "--train-arg", "-A", help="Recipe setting key=value (repeatable)."),
    task_arg: list[str] | None = typer.Option(None, "--task-arg", "-T", help="Task option key=value (repeatable)."),
    progress: bool = typer.Option(True, help="Show progress bars."),
) -> None:
    """Train an adapter with its recipe."""
    from fdrbench.detector import TrainContext, parse_kv_args
    from fdrbench.distributed import dist_info, resolve_device
    from fdrbench.errors import FdrbenchError
    from fdrbench.pipeline import make_task
    from fdrbench.registry import ADAPTERS

    cls = ADAPTERS.load(adapter)
    if not callable(getattr(cls, "train", None)):
        raise FdrbenchError(f"adapter {adapter!r} has no training recipe")
    task_obj = make_task(task, parse_kv_args(task_arg, "--task-arg"))
    if split not in task_obj.splits:
        raise FdrbenchError(f"task {task!r} has no split {split!r}; splits: {', '.join(task_obj.splits)}")
    if out is None:
        default_out = getattr(cls, "default_train_out", None)
        out = default_out(task_obj.name) if callable(default_out) else Path("checkpoints") / adapter / task_obj.name
    ctx = TrainContext(
        task=task_obj,
        data_dir=Path(data_dir) if data_dir else task_obj.ensure_data(task_obj.default_data_dir()),
        split=split,
        out=Path(out),
        seed=seed,
        device=resolve_device(device, dist_info()),
        limit=limit,
        action=action,
        show_progress=progress,
    )
    summary = cls.train(ctx, **parse_kv_args(train_arg, "--train-arg"))
    typer.echo(json.dumps(summary, indent=2, default=str))


@app.command()
@handle_errors
def judge(
    run_dir: Path = typer.Argument(..., help="A run folder whose explanations to grade."),
    judge_model: str = typer.Option(..., "--judge-model", help="Judge model name as the endpoint knows it (pin a dated snapshot)."),
    base_url: str | None = typer.Option(
        None, "--base-url", help="OpenAI-compatible endpoint, e.g. http://localhost:8000/v1 (default: OpenAI)."
    ),
    rubric: str = typer.Option("auto", help="Rubric name (loki_explanation, reference), name@version, a .json file, or auto."),
    api_key_env: str = typer.Option("OPENAI_API_KEY", help="Environment variable holding the API key."),
    concurrency: int = typer.Option(8, min=1, help="Requests in flight."),
    max_attempts: int = typer.Option(3, min=1, help="Answers asked per sample before it is recorded missing."),
    max_tokens: int = typer.Option(1024, min=1, help="Token limit of each judge answer."),
    temperature: float = typer.Option(0.0, min=0.0, help="Judge sampling temperature."),
    seed: int | None = typer.Option(None, help="Seed sent to the endpoint (where supported)."),
    json_mode: bool = typer.Option(True, help="Ask for a JSON object response format."),
    images: bool = typer.Option(True, help="Show the judge the image (and region crops) when the rubric uses them."),
    image_max_side: int | None = typer.Option(None, help="Downscale images sent to the judge to this longer side."),
    data_dir: Path | None = typer.Option(
        None, "--data-dir", "-d", help="Dataset folder for the images; default $FDRBENCH_DATA/<task> (never a folder a run records)."
    ),
    price_in: float | None = typer.Option(None, help="USD per million prompt tokens, for the cost ledger."),
    price_out: float | None = typer.Option(None, help="USD per million completion tokens, for the cost ledger."),
    timeout_s: float = typer.Option(120.0, help="Seconds before a request times out (then it is retried)."),
    max_retries: int = typer.Option(5, min=0, help="Retries on rate limits, server errors and timeouts."),
    cache: bool = typer.Option(True, help="Reuse cached judge answers."),
    restart: bool = typer.Option(False, help="Set aside judgements made with other settings and judge again."),
    progress: bool = typer.Option(True, help="Show a progress bar."),
) -> None:
    """Grade a run's explanations with an LLM judge and add judge_score to its scores."""
    from fdrbench.backends.openai_client import ClientSettings
    from fdrbench.judge.run import JudgeSettings, judge_run
    from fdrbench.report import print_scores
    from fdrbench.store import SCORES, read_json

    client = ClientSettings(
        base_url=base_url, api_key_env=api_key_env, timeout_s=timeout_s, max_retries=max_retries, concurrency=concurrency, cache=cache
    )
    settings = JudgeSettings(
        judge_model=judge_model,
        client=client,
        rubric=rubric,
        temperature=temperature,
        max_tokens=max_tokens,
        max_attempts=max_attempts,
        json_mode=json_mode,
        images=images,
        image_max_side=image_max_side,
        seed=seed,
        price_in=price_in,
        price_out=price_out,
        data_dir=data_dir,
        restart=restart,
        show_progress=progress,
    )
    summary = judge_run(run_dir, settings)
    print_scores(read_json(run_dir / SCORES, "scores"))
    ledger = summary.ledger
    cost = f", cost ${ledger['cost_usd']}" if ledger.get("cost_usd") is not None else ""
    typer.echo(
        f"judged with {summary.rubric}: {json.dumps(summary.counts, sort_keys=True)}; "
        f"{ledger['calls']} calls ({ledger['cached']} answers from the cache), {ledger['prompt_tokens']}+{ledger['completion_tokens']} tokens{cost}"
    )


@app.command()
@handle_errors
def demo(
    out: Path = typer.Option(Path("results"), "--out", "-o", help="Results root."),
    rebuild: bool = typer.Option(False, help="Rebuild the demo data and re-fit the baseline."),
    n_boot: int = typer.Option(1000, min=0, help="Bootstrap resamples for confidence intervals."),
    progress: bool = typer.Option(True, help="Show progress bars."),
) -> None:
    """Build the embedded demo benchmark, fit the CPU baseline, run, score and print (offline)."""
    from fdrbench.report import print_scores
    from fdrbench.tasks.demo import run_demo

    result = run_demo(out=out, rebuild=rebuild, n_boot=n_boot, show_progress=progress)
    print_scores(result.scores, protocols=["strict"])
    timing = result.manifest.get("timing", {})
    typer.echo(f"run folder: {result.run_dir}  ({timing.get('samples_per_s')} images/s)")


# --------------------------------------------------------------------------- data


data_app = typer.Typer(help="Check and prepare downloaded benchmark data.", no_args_is_help=True)
prepare_app = typer.Typer(help="The fiddly steps after downloading: joining archives, placing frames.", no_args_is_help=True)
data_app.add_typer(prepare_app, name="prepare")
app.add_typer(data_app, name="data")


@data_app.command("check")
@handle_errors
def data_check(
    task: str = typer.Argument(..., help="Task name (fdrbench list tasks)."),
    data_dir: Path | None = typer.Option(None, "--data-dir", "-d", help="Dataset folder; default as for run."),
    split: str | None = typer.Option(None, help="Check only this split (default: every split the task has)."),
    task_arg: list[str] | None = typer.Option(None, "--task-arg", "-T", help="Task option key=value (repeatable)."),
    decode: bool = typer.Option(True, help="Decode every image and mask to find unreadable files (--no-decode: existence only)."),
    limit: int | None = typer.Option(None, help="Decode only a seeded subset of this many samples per split."),
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON."),
    progress: bool = typer.Option(True, help="Show a progress bar while decoding."),
) -> None:
    """Per split: samples by label and group, missing and unreadable images, whether the annotations parsed."""
    from fdrbench.datacheck import check_task, print_report
    from fdrbench.detector import parse_kv_args

    report = check_task(task, data_dir, split, parse_kv_args(task_arg, "--task-arg"), decode, limit, progress and not as_json)
    if as_json:
        typer.echo(json.dumps(report, indent=2))
    else:
        print_report(report)
    if not report["ok"]:
        raise typer.Exit(1)


@prepare_app.command("mmfr")
@handle_errors
def prepare_mmfr(
    parts_dir: Path = typer.Option(..., "--parts-dir", help="Folder holding dataset.part1.tar, dataset.part2.tar, ..."),
    out: Path = typer.Option(..., "--out", "-o", help="Folder to extract into (then pass it as --data-dir)."),
    progress: bool = typer.Option(True, help="Show a progress bar."),
) -> None:
    """Join MMFR's archive parts in numeric order and extract them, refusing members that escape --out."""
    from fdrbench.tasks.prepare_mmfr import prepare_mmfr as run_prepare

    typer.echo(json.dumps(run_prepare(parts_dir, out, show_progress=progress), indent=2))


@prepare_app.command("ddvqa")
@handle_errors
def prepare_ddvqa(
    data_dir: Path = typer.Option(..., "--data-dir", "-d", help="Folder holding DD-VQA's DQ_FF++/ annotations."),
    frames: Path = typer.Option(..., "--frames", help="Root of your extracted FF++ frames."),
    split: list[str] | None = typer.Option(None, help="Split(s) to prepare (train, test); default both."),
    template: str | None = typer.Option(
        None, help="Frames folder of a video under --frames; default {sequences}/{method}/{compression}/images/{video}."
    ),
    compression: str = typer.Option("c23", help="FF++ compression level in the template."),
    frame_policy: str = typer.Option("consecutive", help="consecutive (question k -> k-th frame), first or middle."),
    mode: str = typer.Option("copy", help="copy, or hardlink (falls back to copy across filesystems)."),
    skip_missing: bool = typer.Option(False, help="Skip keys whose frames are missing (counted) instead of stopping."),
    progress: bool = typer.Option(True, help="Show a progress bar."),
) -> None:
    """Copy the FF++ frame of every DD-VQA question to <data-dir>/frames/<key>/<qid>.<ext>."""
    from fdrbench.tasks.prepare_ddvqa import DEFAULT_TEMPLATE
    from fdrbench.tasks.prepare_ddvqa import prepare_ddvqa as run_prepare

    summary = run_prepare(
        data_dir,
        frames,
        splits=tuple(split) if split else ("train", "test"),
        template=template or DEFAULT_TEMPLATE,
        compression=compression,
        frame_policy=frame_policy,
        mode=mode,
        skip_missing=skip_missing,
        show_progress=progress,
    )
    typer.echo(json.dumps(summary, indent=2))


# --------------------------------------------------------------------------- leaderboard / validate / submit


@app.command()
@handle_errors
def leaderboard(
    results: Path = typer.Option(Path("results"), "--results", "-r", help="Results root the app reads."),
    port: int = typer.Option(8501, help="Port to serve on."),
    address: str = typer.Option("127.0.0.1", help="Address to bind; 127.0.0.1 serves this machine only."),
    data_dir: list[str] | None = typer.Option(
        None, "--data-dir", "-d", help="TASK=PATH where the explorer finds a task's images (repeatable); default $FDRBENCH_DATA/<task>."
    ),
    rebuild_index: bool = typer.Option(False, help="Rebuild <results>/index.json, paired tests included, and exit."),
) -> None:
    """Browse results in the Streamlit leaderboard (reads the results folder only; never runs a model)."""
    if rebuild_index:
        from fdrbench.leaderboard.index import update_index

        typer.echo(f"wrote {update_index(results, progress=True)}")
        return
    from fdrbench.leaderboard.launch import parse_data_dirs, serve

    serve(results, port, address, parse_data_dirs(data_dir))


@app.command()
@handle_errors
def validate(
    path: Path = typer.Argument(..., help="A run folder, or a results root to validate every run in it."),
    data_dir: Path | None = typer.Option(
        None, "--data-dir", "-d", help="The task's data, to recompute its fingerprint (default: the official fingerprint registry)."
    ),
    portable: bool = typer.Option(False, help="Also require it fit to commit: no local paths or secrets, no stray files, a current index."),
    as_json: bool = typer.Option(False, "--json", help="Print the reports as JSON."),
) -> None:
    """Check a run folder: schema, completeness, data fingerprint, re-score. Exits 1 with the reasons when it fails."""
    from fdrbench.validate import print_reports, validate_path

    reports, root_problems = validate_path(path, data_dir, portable)
    if as_json:
        typer.echo(json.dumps({"runs": [r.to_dict() for r in reports], "index": root_problems}, indent=2))
        ok = all(r.ok for r in reports) and not root_problems
    else:
        ok = print_reports(reports, root_problems, echo=typer.echo)
    if not ok:
        raise typer.Exit(1)


@app.command()
@handle_errors
def submit(
    run_dir: Path = typer.Argument(..., help="The run folder to submit."),
    results: Path = typer.Option(Path("results"), "--results", "-r", help="Results root to file the run into."),
    data_dir: Path | None = typer.Option(None, "--data-dir", "-d", help="The task's data, to recompute its fingerprint."),
    replace: bool = typer.Option(False, help="Overwrite a run already filed under the same task/model/run_id."),
) -> None:
    """Validate a run, file a sanitised copy into the results folder and update its index."""
    from fdrbench.submit import SubmissionRejected, submit_run

    try:
        filed = submit_run(run_dir, results, data_dir, replace)
    except SubmissionRejected as exc:
        _err(str(exc))
        raise typer.Exit(1) from exc
    typer.echo(f"{'replaced' if filed.replaced else 'filed'} {filed.run_dir}")
    for note in filed.report.notes:
        typer.echo(f"  {note}")
    typer.echo(f"index updated: {filed.index}")


def main() -> None:
    app(prog_name="fdrbench")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
