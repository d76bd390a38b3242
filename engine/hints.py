"""The ``vidops`` commands that messages tell the user to run next.

A hint such as ``'vidops resume B'`` looks in ./workspace (the default of ``--workspace``);
when the batch lives in another workspace it must name it, or the command the user copies
says "no batch B". :func:`vidops_command` is the one place that decides.
"""

from __future__ import annotations

import os
import shlex
from pathlib import Path

DEFAULT_WORKSPACE = "workspace"  # paths.workspace's default: ./workspace


def vidops_command(args: str, workspace: str | os.PathLike[str] | None = None) -> str:
    """``vidops ARGS``, with ``--workspace W`` unless ``workspace`` is None or ./workspace."""
    option = ""
    if workspace is not None and str(workspace) and Path(workspace).resolve() != Path(DEFAULT_WORKSPACE).resolve():
        option = f"--workspace {shlex.quote(str(workspace))} "
    return f"vidops {option}{args}"
