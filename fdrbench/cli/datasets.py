"""``fdrbench data check`` and ``fdrbench data prepare TASK``: argument handling."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from fdrbench.cli.app import app, handle_errors

# --------------------------------------------------------------------------- data


data_app = typer.Typer(help="Check and prepare downloaded benchmark data.", no_args_is_help=True)
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
    from fdrbench.kvargs import parse_kv_args

    report = check_task(task, data_dir, split, parse_kv_args(task_arg, "--task-arg"), decode, limit, progress and not as_json)
    if as_json:
        typer.echo(json.dumps(report, indent=2))
    else:
        print_report(report)
    if not report["ok"]:
        raise typer.Exit(1)


@data_app.command("prepare")
@handle_errors
def data_prepare(
    task: str = typer.Argument(..., help="Task whose data to prepare (fdrbench list tasks)."),
    arg: list[str] | None = typer.Option(None, "--arg", "-a", help="A setting of the task's prepare step, key=value (repeatable)."),
    progress: bool = typer.Option(True, help="Show a progress bar."),
) -> None:
    """The steps after downloading a task's data (joining archives, placing frames): the task's own prepare step."""
    import inspect

    from fdrbench.kvargs import construct, parse_kv_args
    from fdrbench.resolve import make_task

    step = make_task(task).prepare
    args = parse_kv_args(arg, "--arg")
    if "show_progress" in inspect.signature(step).parameters:
        args.setdefault("show_progress", progress)
    typer.echo(json.dumps(construct(step, args, what=f"the prepare step of task {task!r}", flag="--arg"), indent=2))
