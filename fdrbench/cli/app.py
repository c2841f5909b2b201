"""The ``fdrbench`` typer app and how every command reports errors (imported by each command group)."""

from __future__ import annotations

import functools
from collections.abc import Callable

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
