"""Rebuild ``US_sample.csv.gz`` from ``../shared/data/trending/US_v2_dev.csv.gz``.

Deterministic: whole channels (so every video keeps all its snapshots and its channel history)
whose sha256(SALT + channel_title) bucket is below ``KEEP`` of 100. Rows keep their original order and
text exactly (read and written as strings).

    .venv/bin/python examples/trending_sample/make_sample.py
"""

from __future__ import annotations

import gzip
import hashlib
import sys
from pathlib import Path

import pandas as pd

KEEP = 35
SALT = "vidops-demo:"  # the dev file itself was split on the unsalted hash, so salt it
HERE = Path(__file__).resolve().parent
SOURCE = HERE.parents[2] / "shared" / "data" / "trending" / "US_v2_dev.csv.gz"


def bucket(title: str) -> int:
    return int(hashlib.sha256((SALT + title).encode("utf-8")).hexdigest()[:8], 16) % 100


def main() -> int:
    df = pd.read_csv(SOURCE, dtype=str, keep_default_na=False)
    sample = df[df["channel_title"].map(bucket) < KEEP]
    out = HERE / "US_sample.csv.gz"
    # mtime=0 in the gzip header keeps the file byte-identical across rebuilds.
    with gzip.GzipFile(out, "wb", mtime=0) as fh:
        fh.write(sample.to_csv(index=False, lineterminator="\n").encode("utf-8"))
    print(f"{len(sample)} rows, {sample['video_id'].nunique()} videos, "
          f"{sample['channel_title'].nunique()} channels -> {out} ({out.stat().st_size / 1e6:.2f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
