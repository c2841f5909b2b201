"""``fdrbench judge``, ``leaderboard``, ``validate`` and ``submit``: argument handling."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from fdrbench.cli.app import _err, app, handle_errors


@app.command()
@handle_errors
def judge(
    run_dir: Path = typer.Argument(..., help="A run folder whose explanations to grade."),
    judge_model: str = typer.Option(..., "--judge-model", help="Judge model name as the endpoint knows it (pin a dated snapshot)."),
    base_url: str | None = typer.Option(
        None, "--base-url", help="OpenAI-compatible endpoint, e.g. http://localhost:8000/v1 (default: OpenAI)."
    ),
    rubric: str = typer.Option("auto", help="A shipped rubric's name or name@version, a .json file, or auto (the task's choice)."),
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
    from fdrbench.results import RunDir

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
    print_scores(RunDir(run_dir).scores())
    ledger = summary.ledger
    cost = f", cost ${ledger['cost_usd']}" if ledger.get("cost_usd") is not None else ""
    typer.echo(
        f"judged with {summary.rubric}: {json.dumps(summary.counts, sort_keys=True)}; "
        f"{ledger['calls']} calls ({ledger['cached']} answers from the cache), {ledger['prompt_tokens']}+{ledger['completion_tokens']} tokens{cost}"
    )


# --------------------------------------------------------------------------- leaderboard / validate / submit


leaderboard_app = typer.Typer(
    help="Browse results in the Streamlit leaderboard, or export them as a static site.", no_args_is_help=False, add_completion=False
)
app.add_typer(leaderboard_app, name="leaderboard")


@leaderboard_app.callback(invoke_without_command=True)
@handle_errors
def leaderboard(
    ctx: typer.Context,
    results: Path = typer.Option(Path("results"), "--results", "-r", help="Results root the app reads."),
    port: int = typer.Option(8501, help="Port to serve on."),
    address: str = typer.Option("127.0.0.1", help="Address to bind; 127.0.0.1 serves this machine only."),
    data_dir: list[str] | None = typer.Option(
        None, "--data-dir", "-d", help="TASK=PATH where the explorer finds a task's images (repeatable); default $FDRBENCH_DATA/<task>."
    ),
    rebuild_index: bool = typer.Option(False, help="Rebuild <results>/index.json, paired tests included, and exit."),
) -> None:
    """Browse results in the Streamlit leaderboard (reads the results folder only; never runs a model)."""
    if ctx.invoked_subcommand is not None:
        return
    if rebuild_index:
        from fdrbench.leaderboard.index import update_index

        typer.echo(f"wrote {update_index(results, progress=True)}")
        return
    from fdrbench.leaderboard.launch import parse_data_dirs, serve

    serve(results, port, address, parse_data_dirs(data_dir))


@leaderboard_app.command("export")
@handle_errors
def leaderboard_export(
    results: Path = typer.Option(Path("results"), "--results", "-r", help="Results root to export."),
    out: Path = typer.Option(..., "--out", "-o", help="Folder of the site: new, empty, or a site exported before (replaced)."),
    progress: bool = typer.Option(True, help="Show a progress bar."),
) -> None:
    """Write the leaderboard as a static site (HTML and JSON, no script, no external request; open index.html)."""
    from fdrbench.leaderboard.export import export_site

    done = export_site(results, out, show_progress=progress)
    pages = sum(1 for name in done.pages if name.endswith(".html"))
    typer.echo(f"wrote {pages} pages for {done.runs} runs to {done.out} in {done.seconds:.1f} s; open {done.out / 'index.html'}")


@app.command()
@handle_errors
def validate(
    path: Path = typer.Argument(..., help="A run folder, or a results root to validate every run in it."),
    data_dir: Path | None = typer.Option(
        None, "--data-dir", "-d", help="The task's data, to recompute its fingerprint (default: the task's official fingerprints)."
    ),
    portable: bool = typer.Option(False, help="Also require it fit to commit: no local paths or secrets, no stray files, a current index."),
    as_json: bool = typer.Option(False, "--json", help="Print the reports as JSON."),
) -> None:
    """Check a run folder: schema, completeness, data fingerprint, re-score. Exits 1 with the reasons when it fails."""
    from fdrbench.checks import print_reports
    from fdrbench.validate import validate_path

    reports = validate_path(path, data_dir, portable)
    root_problems = []
    if portable and Path(path).is_dir() and not (Path(path) / "manifest.json").is_file():
        from fdrbench.leaderboard.index import index_problems

        root_problems = index_problems(path)
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
    from fdrbench.leaderboard.index import update_index
    from fdrbench.submit import SubmissionRejected, submit_run

    try:
        filed = submit_run(run_dir, results, data_dir, replace, index=update_index)
    except SubmissionRejected as exc:
        _err(str(exc))
        raise typer.Exit(1) from exc
    typer.echo(f"{'replaced' if filed.replaced else 'filed'} {filed.run_dir}")
    for note in filed.report.notes:
        typer.echo(f"  {note}")
    typer.echo(f"index updated: {filed.index}")
