"""``fdrbench results pack | unpack | init-repo`` and ``fdrbench score-submission``: argument handling."""

from __future__ import annotations

from pathlib import Path

import typer

from fdrbench.cli.app import _err, app, handle_errors

results_app = typer.Typer(help="Exchange validated runs as bundles; set up a results repository.", no_args_is_help=True)
app.add_typer(results_app, name="results")


def _rejected(exc) -> None:
    _err(str(exc))
    raise typer.Exit(1) from exc


@results_app.command("pack")
@handle_errors
def results_pack(
    runs: list[Path] = typer.Argument(..., help="Run folders (or results roots: every run in them)."),
    out: Path = typer.Option(..., "--out", "-o", help="The bundle to write, e.g. bundle.tar.gz."),
    data_dir: Path | None = typer.Option(None, "--data-dir", "-d", help="The task's data, to recompute its fingerprint."),
    force: bool = typer.Option(False, help="Overwrite --out if it exists."),
    progress: bool = typer.Option(True, help="Show a progress bar."),
) -> None:
    """Validate runs and write them, sanitised and with a manifest of sha256 hashes, into one .tar.gz (no images)."""
    from fdrbench.bundle import BundleRejected, pack

    try:
        bundle = pack(runs, out, data_dir, force, progress)
    except BundleRejected as exc:
        _rejected(exc)
    typer.echo(f"wrote {out}: {len(bundle.runs)} run(s)")
    for run in bundle.runs:
        typer.echo(f"  {run.path}")


@results_app.command("unpack")
@handle_errors
def results_unpack(
    bundle: Path = typer.Argument(..., help="A bundle written by `fdrbench results pack`."),
    into: Path = typer.Option(Path("results"), "--into", "-r", help="Results root to install the runs into."),
    data_dir: Path | None = typer.Option(None, "--data-dir", "-d", help="The task's data, to recompute its fingerprint."),
    replace: bool = typer.Option(False, help="Overwrite runs filed under the same task/model/run_id with different files."),
    max_bytes: int | None = typer.Option(None, min=1, help="Largest total size the bundle may decompress to (default 32 GiB)."),
    progress: bool = typer.Option(True, help="Show a progress bar."),
) -> None:
    """Check a bundle in full (names, hashes, every run validated) and install its runs; nothing changes if any check fails."""
    from dataclasses import replace as with_

    from fdrbench.bundle import BundleRejected, Limits, unpack
    from fdrbench.leaderboard.index import update_index

    limits = Limits() if max_bytes is None else with_(Limits(), max_total_bytes=max_bytes)
    try:
        done = unpack(bundle, into, data_dir, replace, limits, index=update_index, progress=progress)
    except BundleRejected as exc:
        _rejected(exc)
    for label, paths in (("installed", done.installed), ("replaced", done.replaced), ("already present, identical", done.unchanged)):
        for path in paths:
            typer.echo(f"{label}: {into / path}")
    if done.index is not None:
        typer.echo(f"index updated: {done.index}")


@results_app.command("init-repo")
@handle_errors
def results_init_repo(
    folder: Path = typer.Argument(Path("."), help="The results repository's folder."),
    name: str | None = typer.Option(None, help="The repository's title in its README (default: the folder's name)."),
    force: bool = typer.Option(False, help="Overwrite files that exist."),
) -> None:
    """Write a CI workflow that validates every pull request, a README and .gitattributes for a results repository."""
    from fdrbench.results_repo import init_repo

    written = init_repo(folder, name, force=force)
    for path in written.files:
        typer.echo(f"wrote {path}")
    for path in written.skipped:
        typer.echo(f"kept {path} (exists; --force overwrites it)")


@app.command("score-submission")
@handle_errors
def score_submission(
    submission: Path = typer.Argument(..., help="A participant's submission.jsonl (its submission-manifest.json beside it)."),
    task: str = typer.Option(..., "--task", "-t", help="The task (a registered name)."),
    data_dir: Path = typer.Option(..., "--data-dir", "-d", help="The organiser's labelled copy of the task's data."),
    split: str | None = typer.Option(None, help="Split the submission covers; the task's default when omitted."),
    task_arg: list[str] | None = typer.Option(None, "--task-arg", "-T", help="Task option key=value (repeatable)."),
    manifest: Path | None = typer.Option(None, help="The submission's manifest (default: submission-manifest.json beside it)."),
    results: Path = typer.Option(Path("results"), "--results", "-r", help="Results root to file the scored run into."),
    name: str | None = typer.Option(None, help="Model name on the leaderboard (default: the submission's)."),
    run_id: str | None = typer.Option(None, help="Run folder name (default: the submission's)."),
    n_boot: int = typer.Option(1000, min=1, help="Bootstrap resamples for confidence intervals."),
    replace: bool = typer.Option(False, help="Overwrite a run filed under the same task/model/run_id."),
    progress: bool = typer.Option(True, help="Show a progress bar."),
) -> None:
    """Check a blind submission against the labels and file it as a scored run (every protocol); rejected with every reason."""
    from fdrbench.blind.score import Scoring
    from fdrbench.blind.score import score_submission as score
    from fdrbench.kvargs import parse_kv_args
    from fdrbench.leaderboard.index import update_index
    from fdrbench.submit import SubmissionRejected

    scoring = Scoring(
        task=task,
        data_dir=data_dir,
        results=results,
        split=split,
        task_args=parse_kv_args(task_arg, "--task-arg"),
        manifest=manifest,
        name=name,
        run_id=run_id,
        n_boot=n_boot,
        replace=replace,
        show_progress=progress,
    )
    try:
        filed = score(submission, scoring, index=update_index)
    except SubmissionRejected as exc:
        _rejected(exc)
    typer.echo(f"{'replaced' if filed.replaced else 'filed'} {filed.run_dir}")
    typer.echo(f"index updated: {filed.index}")
