"""``fdrbench reproduce``: argument handling (the work is in :mod:`fdrbench.reproduce`)."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from fdrbench.cli.app import app, handle_errors


@app.command()
@handle_errors
def reproduce(
    target: str = typer.Argument(..., help="A target (fdrbench reproduce list shows them), or 'list'."),
    run_dir: Path | None = typer.Option(None, "--run", help="Check this stored run folder instead of finding or making one."),
    results: Path = typer.Option(Path("results"), "--results", help="Where matching runs are looked for, and new runs written."),
    data_dir: Path | None = typer.Option(None, "--data-dir", "-d", help="Dataset folder, when the target must be run."),
    device: str = typer.Option("auto", help="auto, cpu, cuda, cuda:N or mps, when the target must be run."),
    model_arg: list[str] | None = typer.Option(
        None, "--model-arg", "-M", help="Extra adapter setting key=value (e.g. a local weights folder)."
    ),
    task_arg: list[str] | None = typer.Option(None, "--task-arg", "-T", help="Extra task option key=value (e.g. a CLIP folder)."),
    batch_size: int = typer.Option(8, "--batch-size", "-b", min=1, help="Samples per predict() call, when the target must be run."),
    progress: bool = typer.Option(True, help="Show a progress bar while running."),
    as_json: bool = typer.Option(False, "--json", help="Print the result (or the registry) as JSON."),
) -> None:
    """Check published numbers: on a stored run (--run), a matching complete run under --results, or a new run.

    Exit 0 when every entry is reproduced, 1 when one deviates, 2 when one is not comparable.
    """
    from fdrbench.reproduce.registry import load_registry

    registry = load_registry()
    if target == "list":
        from fdrbench.reproduce.report import print_registry, registry_json

        if as_json:
            typer.echo(json.dumps(registry_json(registry), indent=2))
        else:
            print_registry(registry)
        return
    from fdrbench.kvargs import parse_kv_args
    from fdrbench.reproduce.check import check_run, find_matching, make_run, run_settings
    from fdrbench.reproduce.report import print_result

    chosen = registry.target(target)
    model_args, task_args = parse_kv_args(model_arg), parse_kv_args(task_arg, "--task-arg")
    if run_dir is None:
        run_settings(chosen, model_args, task_args)  # refuse a clash before anything is searched or run
        found = find_matching(chosen, results)
        if found.run is not None:
            run_dir = found.run.path
            if not as_json:
                typer.echo(f"reusing the matching complete run {run_dir}")
        else:
            for path, reasons in found.passed_over:
                typer.echo(f"passed over {path}: {'; '.join(reasons)}", err=True)
            run_dir = make_run(chosen, results, data_dir, device, model_args, task_args, batch_size, progress and not as_json)
    result = check_run(chosen, run_dir)
    if as_json:
        typer.echo(json.dumps(result.to_json(), indent=2))
    else:
        print_result(result)
    raise typer.Exit(result.exit_code)
