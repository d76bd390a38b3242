"""The ``vidops`` command line: global options, then one sub-command per module.

Sub-commands live in :mod:`console.commands` (one module each, listed in an explicit
registry). Headless commands never import Textual; only the console opens it.
Exit codes: 0 ok, 1 finished with failed videos, 2 usage/config/input error,
3 internal error, 130 interrupted.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import signal
import sys
import threading
import traceback
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from console.commands import COMMANDS
from engine.backends import BackendUnavailable
from engine.config import ConfigError, Settings, load_settings, with_workspace

EXIT_OK = 0
EXIT_FAILURES = 1
EXIT_USAGE = 2
EXIT_INTERNAL = 3
EXIT_INTERRUPTED = 130


class UsageError(Exception):
    """Bad arguments or input files: reported in one line, exit code 2."""


@dataclass
class CliContext:
    """What every command gets: the resolved workspace and settings."""

    workspace: Path
    config_path: Path | None
    settings: Settings

    def with_overrides(self, overrides: dict[str, object]) -> CliContext:
        from engine.config import apply_overrides

        return CliContext(self.workspace, self.config_path, apply_overrides(self.settings, overrides))


def _default_config() -> Path | None:
    """./config.toml when present, else the documented defaults."""
    candidate = Path("config.toml")
    return candidate if candidate.is_file() else None


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="vidops",
        description=(
            "vidops: push videos through feature extraction, build a training set, train a "
            "popularity model and serve predictions. Without a command it opens the console."
        ),
        epilog="Exit codes: 0 ok, 1 failed videos, 2 usage/config/input error, 3 internal error, 130 interrupted.",
    )
    parser.add_argument("--workspace", metavar="DIR", help="workspace directory (default: $VIDOPS_WORKSPACE, else paths.workspace of the config, else ./workspace)")
    parser.add_argument("--config", metavar="FILE", help="config file (default: ./config.toml when present, else built-in defaults); relative paths in it are taken relative to its folder; keys: docs/config.md")
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug messages to stderr")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module_name in COMMANDS:
        module = importlib.import_module(f"console.commands.{module_name}")
        module.register(sub)
    return parser


def make_context(args: argparse.Namespace) -> CliContext:
    config_path = Path(args.config) if args.config else _default_config()
    settings = load_settings(config_path)
    workspace = args.workspace or os.environ.get("VIDOPS_WORKSPACE") or settings.paths.workspace
    settings = with_workspace(settings, str(workspace))
    return CliContext(Path(workspace), config_path, settings)


def _terminate_as_interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def main(argv: Sequence[str] | None = None) -> int:
    # SIGTERM (kill, a scheduler's timeout) takes the Ctrl-C path, so commands clean up as they
    # do on Ctrl-C (train removes its staging folder, events get their "interrupted" end) instead
    # of dying mid-write. The supervisor installs its own handlers while it runs.
    previous = None
    if threading.current_thread() is threading.main_thread():
        previous = signal.signal(signal.SIGTERM, _terminate_as_interrupt)
    try:
        return _run_command(argv)
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def _run_command(argv: Sequence[str] | None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    try:
        ctx = make_context(args)
        if args.command is None:
            if not (sys.stdout.isatty() and sys.stdin.isatty()):
                parser.print_help()  # no terminal to draw the console on
                return EXIT_USAGE
            from console.commands import console_cmd

            return int(console_cmd.open_console(ctx, None))
        return int(args.handler(args, ctx))
    except BackendUnavailable as exc:
        print(f"vidops: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except ConfigError as exc:
        print(f"vidops: config error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except UsageError as exc:
        print(f"vidops: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("vidops: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        return EXIT_OK
    except Exception:  # noqa: BLE001 - last resort: report, distinct exit code
        traceback.print_exc()
        print("vidops: internal error (see the traceback above)", file=sys.stderr)
        return EXIT_INTERNAL


if __name__ == "__main__":
    # Re-import so exception classes are the ones the command modules raise (not __main__'s).
    from console.cli import main as _main

    sys.exit(_main())
