"""``fdrbench run``, ``robustness``, ``score``, ``show``, ``compare``, ``list``, ``train`` and ``demo``: argument handling."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from fdrbench.cli import run_options as opt
from fdrbench.cli.app import app, handle_errors

# --------------------------------------------------------------------------- run / score / show


@app.command()
@handle_errors
def run(
    model: str = opt.MODEL,
    task: str = opt.TASK,
    data_dir: Path | None = opt.DATA_DIR,
    split: str | None = opt.SPLIT,
    limit: int | None = opt.LIMIT,
    batch_size: int = opt.BATCH_SIZE,
    out: Path | None = typer.Option(
        None,
        "--out",
        "-o",
        help="Results root (default results/, submissions/ with --predict-only); the run goes to <out>/<task>/<model>/<run_id>/.",
    ),
    run_id: str | None = opt.RUN_ID,
    name: str | None = opt.NAME,
    seed: int = opt.SEED,
    device: str = opt.DEVICE,
    model_arg: list[str] | None = opt.MODEL_ARG,
    task_arg: list[str] | None = opt.TASK_ARG,
    max_failures: str = opt.MAX_FAILURES,
    protocol: list[str] | None = opt.PROTOCOL,
    n_boot: int = opt.N_BOOT,
    retry_failed: bool = opt.RETRY_FAILED,
    skip_missing: bool = opt.SKIP_MISSING,
    perturb: str | None = typer.Option(
        None,
        "--perturb",
        help="Perturb every image (its mask and regions with it): jpeg:q=70, resize:f=0.5, jpeg:q=75+resize:side=512, "
        "or a preset member such as fakevlm_t7/jpeg70. Part of the run id and data fingerprint.",
    ),
    progress: bool = opt.PROGRESS,
    predict_only: bool = typer.Option(
        False,
        "--predict-only",
        help="Blind run: the detector sees no truth; writes submission.jsonl for the benchmark's organiser to score.",
    ),
) -> None:
    """Evaluate a detector on a task: infer (resumable), score, print the headline table."""
    settings = dict(locals())  # the options above, as typed
    from fdrbench.pipeline import run as run_pipeline
    from fdrbench.report import print_scores

    predict_only = settings.pop("predict_only")
    settings["out"] = out or Path("submissions" if predict_only else "results")
    config = opt.run_config(**settings)
    if predict_only:
        from dataclasses import replace

        from fdrbench.blind.predict import predict_only as run_blind

        blind = run_blind(replace(config, predict_only=True))
        failed = f", {blind.n_failed} failed" if blind.n_failed else ""
        typer.echo(f"submission: {blind.submission} ({blind.n_predicted} predictions{failed}; no truth was read)")
        typer.echo("send it with the submission-manifest.json beside it to the benchmark's organiser")
        return
    result = run_pipeline(config)
    if result.scores is not None:
        print_scores(result.scores)
        typer.echo(f"run folder: {result.run_dir}")


@app.command()
@handle_errors
def robustness(
    model: str = opt.MODEL,
    task: str = opt.TASK,
    preset: str = typer.Option(..., "--preset", "-P", help="Perturbation preset: fakevlm_t7, sida_fig, aigcdetect, openfake_jpeg, ..."),
    data_dir: Path | None = opt.DATA_DIR,
    split: str | None = opt.SPLIT,
    limit: int | None = opt.LIMIT,
    batch_size: int = opt.BATCH_SIZE,
    out: Path = opt.OUT,
    run_id: str | None = opt.RUN_ID,
    name: str | None = opt.NAME,
    seed: int = opt.SEED,
    device: str = opt.DEVICE,
    model_arg: list[str] | None = opt.MODEL_ARG,
    task_arg: list[str] | None = opt.TASK_ARG,
    max_failures: str = opt.MAX_FAILURES,
    protocol: list[str] | None = opt.PROTOCOL,
    n_boot: int = opt.N_BOOT,
    retry_failed: bool = opt.RETRY_FAILED,
    skip_missing: bool = opt.SKIP_MISSING,
    progress: bool = opt.PROGRESS,
) -> None:
    """Run the clean condition and each member of a perturbation preset (resumable), then write
    robustness.json: paired differences to clean with CIs and p-values, verdict flips, explanation stability."""
    settings = dict(locals())  # the options above, as typed
    del settings["preset"]
    from fdrbench.report import print_robustness
    from fdrbench.sweep import run_sweep

    result = run_sweep(opt.run_config(**settings), preset)
    for condition, folder, what in result.runs:
        typer.echo(f"{condition}: {folder} ({what})")
    if result.robustness is not None:
        print_robustness(result.robustness)
        typer.echo(f"robustness file: {result.path}")


@app.command()
@handle_errors
def score(
    run_dir: Path = typer.Argument(..., help="A run folder (results/<task>/<model>/<run_id>)."),
    protocol: list[str] | None = typer.Option(None, "--protocol", "-p", help="Protocol(s) to compute; default those of the run."),
    n_boot: int | None = typer.Option(None, min=0, help="Bootstrap resamples; default as the run was scored."),
    seed: int | None = typer.Option(None, help="Bootstrap seed; default the run's."),
) -> None:
    """Re-score a run from its stored predictions (no model, no GPU, no dataset needed)."""
    from fdrbench.report import print_scores
    from fdrbench.stages.score import score_run_dir

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
    from fdrbench.results import RunDir

    run = RunDir(run_dir)
    manifest = run.manifest()
    scores = run.scores()
    if as_json:
        typer.echo(json.dumps({"manifest": manifest.to_json(), "scores": scores.to_json() if scores else None}, indent=2))
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
    adapter: str = typer.Argument(..., help="Adapter with a training recipe (fdrbench list models)."),
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
    from fdrbench.api.detector import Trainable, TrainContext, default_train_out
    from fdrbench.distributed import dist_info, resolve_device
    from fdrbench.errors import FdrbenchError
    from fdrbench.kvargs import parse_kv_args
    from fdrbench.registry import ADAPTERS
    from fdrbench.resolve import make_task

    cls = ADAPTERS.load(adapter)
    if not isinstance(cls, Trainable) and not callable(getattr(cls, "train", None)):
        raise FdrbenchError(f"adapter {adapter!r} has no training recipe")
    task_obj = make_task(task, parse_kv_args(task_arg, "--task-arg"))
    if split not in task_obj.splits:
        raise FdrbenchError(f"task {task!r} has no split {split!r}; splits: {', '.join(task_obj.splits)}")
    if out is None:
        out = default_train_out(cls, adapter, task_obj.name)
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
def demo(
    out: Path = typer.Option(Path("results"), "--out", "-o", help="Results root."),
    rebuild: bool = typer.Option(False, help="Rebuild the demo data and re-fit the baseline."),
    n_boot: int = typer.Option(1000, min=0, help="Bootstrap resamples for confidence intervals."),
    progress: bool = typer.Option(True, help="Show progress bars."),
) -> None:
    """Build the embedded demo benchmark, fit the CPU baseline, run, score and print (offline)."""
    from fdrbench.adapters.baselines.demo import run_demo
    from fdrbench.report import print_scores

    result = run_demo(out=out, rebuild=rebuild, n_boot=n_boot, show_progress=progress)
    print_scores(result.scores, protocols=["strict"])
    timing = result.manifest.timing
    typer.echo(f"run folder: {result.run_dir}  ({timing.get('samples_per_s')} images/s)")
