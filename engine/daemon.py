"""``python -m engine.daemon BATCH_DIR``: a supervisor detached from any terminal.

Started in a new session by :func:`engine.api.start_detached` with output to
``supervisor.log``, so closing the SSH session that started it does not stop the batch.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from engine.backends import BackendUnavailable
from engine.batch import BatchAborted, BatchLocked, BatchPaths, WorkspaceError
from engine.supervisor import Supervisor


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m engine.daemon")
    p.add_argument("batch_dir")
    p.add_argument("--workers", type=int)
    p.add_argument("--retry", action="append", default=[])
    p.add_argument("--retry-all-failed", action="store_true")
    p.add_argument("--include-permanent", action="store_true")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    sup = Supervisor(BatchPaths(Path(args.batch_dir)), workers=args.workers, retry_keys=args.retry,
                     retry_all_failed=args.retry_all_failed, include_permanent=args.include_permanent)
    try:
        return sup.run()
    except BatchLocked as exc:
        logging.error("%s", exc)
        return 2
    except (BatchAborted, WorkspaceError, BackendUnavailable) as exc:  # an environment problem, said in one line
        logging.error("%s", exc)
        return 3


if __name__ == "__main__":
    sys.exit(main())
