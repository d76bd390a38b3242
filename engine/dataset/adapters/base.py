"""What every snapshot-format adapter shares: reading files as text, the canonical columns,
vectorised parsing that records every skipped row (file, row number, reason).

Row numbers are 1-based *data* rows as a person counts them in the file: for CSV the header
is line 1, so the first data row is line 2; for JSONL it is the line number; for parquet the
row index + 1.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from engine.dataset.settings import DatasetSettings


class DatasetInputError(ValueError):
    """An input file cannot be used at all (unknown format, missing columns, unreadable)."""


CANONICAL_COLUMNS = [
    "platform_id", "video_id", "snapshot_time", "views", "likes", "comments", "dislikes",
    "channel_id", "channel_title", "published_at", "title", "tags", "category_id", "language",
    "comments_disabled", "ratings_disabled", "trending_rank_pct", "source_row",
]
# Columns that describe where a row sat in its file, not what was observed: ignored when
# deciding whether two rows are exact duplicates.
POSITIONAL_COLUMNS = ("trending_rank_pct", "source_row")
COUNTERS = ("views", "likes", "comments")
TEXT_OPTIONAL = ("channel_id", "channel_title", "title", "tags", "category_id", "language",
                 "comments_disabled", "ratings_disabled")
EXCEL_ERRORS = frozenset({"#NAME?", "#VALUE!", "#REF!", "#N/A", "#DIV/0!", "#NUM!", "#NULL!"})


@dataclass
class SkipLog:
    """Counts of everything skipped or altered, by reason, with the first examples of each."""

    max_examples: int = 20
    counts: dict[str, int] = field(default_factory=dict)
    examples: dict[str, list[str]] = field(default_factory=dict)

    def add(self, reason: str, path: str, rows: np.ndarray | list[int], detail: str = "") -> None:
        rows = list(np.asarray(rows, dtype=np.int64))
        if not rows:
            return
        self.counts[reason] = self.counts.get(reason, 0) + len(rows)
        ex = self.examples.setdefault(reason, [])
        for r in rows[: max(0, self.max_examples - len(ex))]:
            ex.append(f"{path}:{int(r)}" + (f": {detail}" if detail else ""))

    def add_values(self, reason: str, path: str, rows: np.ndarray, values: pd.Series, what: str) -> None:
        """Like :meth:`add`, quoting each offending value in the examples."""
        rows = np.asarray(rows, dtype=np.int64)
        if rows.size == 0:
            return
        self.counts[reason] = self.counts.get(reason, 0) + int(rows.size)
        ex = self.examples.setdefault(reason, [])
        for r, v in list(zip(rows, values, strict=False))[: max(0, self.max_examples - len(ex))]:
            ex.append(f"{path}:{int(r)}: {what} {str(v)[:60]!r}")


def _read_jsonl(path: Path) -> pd.DataFrame:
    import gzip

    opener = gzip.open if path.name.endswith(".gz") else open
    records: list[dict[str, object]] = []
    lines: list[int] = []
    with opener(path, "rt", encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except ValueError as exc:
                raise DatasetInputError(f"{path}:{lineno}: not valid JSON ({exc})") from None
            if not isinstance(obj, dict):
                raise DatasetInputError(f"{path}:{lineno}: expected a JSON object per line")
            records.append({k: ("" if v is None else str(v)) for k, v in obj.items()})
            lines.append(lineno)
    df = pd.DataFrame.from_records(records).fillna("").astype(str)
    df.index = pd.Index(lines, dtype="int64")
    return df


def _read_csv(path: Path) -> pd.DataFrame:
    df = pd.read_csv(path, dtype=str, keep_default_na=False, na_filter=False)
    df.index = _csv_line_numbers(path, len(df))
    return df


def _csv_line_numbers(path: Path, n_rows: int) -> pd.Index:
    """The line each data row starts on. A quoted field with line breaks (the Kaggle files'
    descriptions) or a blank line shifts rows off ``index + 2``, so then ask the csv module."""
    import csv
    import gzip

    opener = gzip.open if path.name.lower().endswith(".gz") else open
    with opener(path, "rb") as fh:
        data = fh.read()
    lines = data.count(b"\n") + (0 if data.endswith(b"\n") or not data else 1)
    if lines == n_rows + 1:  # one line per row: the common case, no second parse
        return pd.RangeIndex(2, n_rows + 2)
    with opener(path, "rt", encoding="utf-8", newline="") as text:
        reader = csv.reader(text)
        next(reader, None)  # the header
        starts, previous = [], reader.line_num
        for row in reader:
            if row:  # pandas skips blank lines too
                starts.append(previous + 1)
            previous = reader.line_num
    if len(starts) != n_rows:  # the two parsers disagree on some odd file: keep the simple numbering
        return pd.RangeIndex(2, n_rows + 2)
    return pd.Index(starts, dtype="int64")


def _read_parquet(path: Path) -> pd.DataFrame:
    df = pd.read_parquet(path)
    df = df.astype(object).where(df.notna(), "").astype(str)
    df.index = pd.RangeIndex(1, len(df) + 1)
    return df


READERS: dict[str, Callable[[Path], pd.DataFrame]] = {
    ".csv": _read_csv, ".csv.gz": _read_csv, ".parquet": _read_parquet,
    ".jsonl": _read_jsonl, ".jsonl.gz": _read_jsonl, ".ndjson": _read_jsonl,
}


def read_table(path: str | Path) -> pd.DataFrame:
    """Every column as ``str`` (missing = ""); the index holds the row numbers (see module doc)."""
    p = Path(path)
    name = p.name.lower()
    suffix = next((s for s in sorted(READERS, key=len, reverse=True) if name.endswith(s)), None)
    if suffix is None:
        raise DatasetInputError(f"{p}: unknown file type (expected one of {', '.join(READERS)})")
    if not p.is_file():
        raise DatasetInputError(f"{p}: file not found")
    try:
        return READERS[suffix](p)
    except DatasetInputError:
        raise
    except UnicodeDecodeError:
        raise DatasetInputError(f"{p}: {_first_non_utf8_line(p)}") from None
    except pd.errors.EmptyDataError:
        raise DatasetInputError(f"{p}: empty file (not even a header line)") from None
    except (EOFError, zlib.error) as exc:  # gzip's errors for a truncated or damaged stream
        raise DatasetInputError(f"{p}: truncated or damaged compressed file ({exc}); copy it again") from None
    except (OSError, ValueError) as exc:
        raise DatasetInputError(f"{p}: cannot read as {suffix}: {exc}") from None


def _first_non_utf8_line(path: Path) -> str:
    """Where the text stops being UTF-8 (the CSV parser's own position is within a buffer)."""
    import gzip

    opener = gzip.open if path.name.lower().endswith(".gz") else open
    with opener(path, "rb") as fh:
        for lineno, line in enumerate(fh, start=1):
            try:
                line.decode("utf-8")
            except UnicodeDecodeError as exc:
                return (f"line {lineno}: not UTF-8 (byte 0x{line[exc.start]:02x} at column {exc.start + 1}); "
                        "save the file as UTF-8 (e.g. iconv -f latin1 -t utf-8)")
    return "not UTF-8; save the file as UTF-8"


def require_columns(df: pd.DataFrame, path: str, required: list[str], fmt: str) -> None:
    missing = [c for c in required if c not in df.columns]
    if missing:
        # one column whose name holds the others: the file uses another separator (Excel's ';', tabs)
        sep = next((s for s in (";", "\t", "|") if len(df.columns) == 1 and s in str(df.columns[0])), None)
        hint = f"; the file seems to be separated by {sep!r}: save it with ',' as the separator" if sep else ""
        raise DatasetInputError(
            f"{path}: missing required column(s) {', '.join(missing)} for format {fmt!r} "
            f"(columns present: {', '.join(map(str, df.columns))}){hint}")


def parse_counter(raw: pd.Series, path: str, what: str, skips: SkipLog, required: bool) -> pd.Series:
    """float64 counters; non-numeric or negative values are NaN and logged.

    For required counters the caller drops the NaN rows (reasons ``non_numeric_<what>`` /
    ``negative_<what>``); optional ones (dislikes) stay NaN (reason ``bad_<what>``, row kept).
    """
    text = raw.astype(str).str.strip()
    num = pd.to_numeric(text, errors="coerce").astype("float64")
    bad = num.isna() | ~np.isfinite(num)
    if not required:
        bad &= text != ""
    neg = num < 0
    rows = raw.index.to_numpy()
    if required:
        skips.add_values(f"non_numeric_{what}", path, rows[bad.to_numpy()], raw[bad], what)
        skips.add_values(f"negative_{what}", path, rows[neg.to_numpy()], raw[neg], what)
    else:
        skips.add_values(f"bad_{what}_set_missing", path, rows[(bad | neg).to_numpy()], raw[bad | neg], what)
    return num.where(~(bad | neg))


def parse_time(raw: pd.Series, fmt: str | None = "ISO8601") -> pd.Series:
    """UTC timestamps (naive values are taken as UTC); unparseable -> NaT."""
    text = raw.astype(str).str.strip()
    out = pd.to_datetime(text.where(text != ""), format=fmt, utc=True, errors="coerce")
    return out.astype("datetime64[ns, UTC]")


def finish(df: pd.DataFrame, path: str, skips: SkipLog, id_ok: pd.Series) -> pd.DataFrame:
    """Drop rows with a bad id, time or required counter (all logged), return canonical columns."""
    rows = df.index.to_numpy()
    bad_id = ~id_ok.to_numpy()
    skips.add_values("invalid_video_id", path, rows[bad_id], df["video_id"][bad_id], "video_id")
    bad_time = df["snapshot_time"].isna().to_numpy() & ~bad_id
    skips.add_values("bad_snapshot_time", path, rows[bad_time], df["_raw_time"][bad_time], "time")
    keep = ~bad_id & ~bad_time
    for c in COUNTERS:
        keep &= df[c].notna().to_numpy()
    pub_bad = df["published_at"].isna().to_numpy() & (df["_raw_pub"].astype(str).str.strip() != "").to_numpy()
    skips.add_values("bad_published_at_set_missing", path, rows[pub_bad & keep], df["_raw_pub"][pub_bad & keep],
                     "published_at")
    out = df.loc[keep].copy()
    out["source_row"] = out.index.to_numpy(dtype=np.int64)
    for c in TEXT_OPTIONAL:
        if c not in out.columns:
            out[c] = ""
    if "dislikes" not in out.columns:
        out["dislikes"] = np.nan
    if "trending_rank_pct" not in out.columns:
        out["trending_rank_pct"] = np.nan
    return out[CANONICAL_COLUMNS].reset_index(drop=True)


def rank_pct(raw: pd.Series) -> pd.Series:
    """Optional list position as a fraction in (0, 1): numbers outside (0, 1] or text -> NaN."""
    num = pd.to_numeric(raw.astype(str).str.strip(), errors="coerce").astype("float64")
    return num.where((num > 0) & (num <= 1))


def common_columns(raw: pd.DataFrame, settings: DatasetSettings) -> pd.DataFrame:
    """Platform id default and copies of the optional text columns (absent -> "")."""
    df = pd.DataFrame(index=raw.index)
    df["platform_id"] = raw["platform_id"] if "platform_id" in raw.columns else settings.platform_id
    df["platform_id"] = df["platform_id"].astype(str).str.strip().replace("", settings.platform_id)
    for c in TEXT_OPTIONAL:
        df[c] = raw[c].astype(str) if c in raw.columns else ""
    return df
