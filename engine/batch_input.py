"""Batch list files (CSV, JSON array, JSONL) → normalized, validated video rows.

A list that cannot be parsed at all raises :class:`ListFileError` (exit code 2 before
anything starts). A bad row (missing/unreadable file, duplicate key, unsafe id) does not stop
the batch: it becomes a row with ``invalid`` set, recorded as a failed video with error class
``invalid_input`` and the reason.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# Ids become file names (result_store/<platform_id>/<video_id>/, batches/<batch_id>/,
# logs/<platform_id>__<video_id>.log), and Linux limits a file name to 255 *bytes*: a limit in
# characters let a non-ASCII id or a long platform+video key fail later with ENAMETOOLONG.
NAME_MAX_BYTES = 255
MAX_ID_BYTES = 128  # one id (ASCII: 128 characters, as before)
# The longest name built from a video key is the workflow's prediction_<key>.json.
MAX_KEY_BYTES = NAME_MAX_BYTES - len("prediction_.json")
_KNOWN = ("video_path", "platform_id", "video_id", "channel_id", "published_at")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_EXTRA = "\x00extra"  # CSV values beyond the header: a sign of an unquoted comma


class ListFileError(ValueError):
    """The list file as a whole is unusable (format, header, required column)."""


@dataclass
class VideoRow:
    """One normalized input row."""

    row: int  # 1-based data row (CSV: line of the row after the header)
    video_path: str
    platform_id: str
    video_id: str
    channel_id: str | None = None
    published_at: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    invalid: str | None = None  # reason when the row cannot run
    derived_id: bool = False  # video_id came from the file name, not the list

    @property
    def key(self) -> str:
        """Stable, file-name-safe key of the video within a batch."""
        if (check_id(self.platform_id, "platform_id") or check_id(self.video_id, "video_id")
                or check_key(self.platform_id, self.video_id)):
            return f"row{self.row}"
        return f"{self.platform_id}__{self.video_id}"

    def to_dict(self) -> dict[str, Any]:
        d = {
            "key": self.key, "row": self.row, "video_path": self.video_path, "platform_id": self.platform_id,
            "video_id": self.video_id, "channel_id": self.channel_id, "published_at": self.published_at,
            "metadata": self.metadata,
        }
        if self.invalid:
            d["invalid"] = self.invalid
        return d


def check_id(value: str, what: str) -> str | None:
    """Reason why ``value`` is unsafe as a path component, or None."""
    if not value:
        return f"{what} is empty"
    size = len(value.encode("utf-8", "surrogatepass"))
    if size > MAX_ID_BYTES:
        return f"{what} {_preview(value)} is {size} bytes in UTF-8, longer than {MAX_ID_BYTES} (it becomes a file name)"
    if "/" in value or "\\" in value:
        return f"{what} {value!r} contains a path separator"
    if value in (".", "..") or ".." in value:
        return f"{what} {value!r} contains '..'"
    if _CONTROL.search(value):
        return f"{what} {value!r} contains control characters"
    if value.startswith("."):
        return f"{what} {value!r} starts with '.'"
    return None


def check_key(platform_id: str, video_id: str) -> str | None:
    """Reason why the video key ``<platform_id>__<video_id>`` is too long for a file name, or None."""
    key = f"{platform_id}__{video_id}"
    size = len(key.encode("utf-8", "surrogatepass"))
    if size > MAX_KEY_BYTES:
        return (f"platform_id + video_id key {_preview(key)} is {size} bytes in UTF-8, longer than {MAX_KEY_BYTES} "
                "(it names the video's log file); shorten the video_id")
    return None


def _preview(value: str, limit: int = 60) -> str:
    return repr(value if len(value) <= limit else value[:limit] + "…")


def derive_video_id(path: str) -> str:
    """A path-safe id from the file name. Letters of any script are kept (ASCII names give the
    same id as always): dropping them made every all-non-Latin name ``video``, so all but the
    first such file of a list failed as duplicates."""
    stem = unicodedata.normalize("NFC", Path(path).stem or Path(path).name)
    vid = re.sub(r"[^\w.-]+", "_", stem).strip("._") or "video"
    if len(vid.encode()) > MAX_ID_BYTES:  # keep long names usable and distinct rather than invalid
        head = vid.encode()[:MAX_ID_BYTES - 9].decode("utf-8", "ignore")  # never half a character
        vid = head + "-" + hashlib.sha256(stem.encode()).hexdigest()[:8]
    return vid


def _read_csv(path: Path) -> list[tuple[int, dict[str, Any]]]:
    with path.open("r", encoding="utf-8-sig", newline="") as fh:
        sample = fh.read(4096)
        fh.seek(0)
        if not sample.strip():
            raise ListFileError(f"{path}: the list file is empty (expected a header with a 'video_path' column)")
        reader = csv.DictReader(fh)
        header = reader.fieldnames or []
        if "video_path" not in header:
            hint = next((f"; the header looks {name}-separated, and the list must be comma-separated"
                         for sep, name in ((";", "semicolon"), ("\t", "tab")) if len(header) == 1 and sep in header[0]), "")
            raise ListFileError(f"{path}: no 'video_path' column in the header "
                                f"(found: {', '.join(header) or 'nothing'}){hint}")
        rows = []
        start = reader.line_num + 1
        for rec in reader:
            if any("\n" in (rec.get(k) or "") or "\r" in (rec.get(k) or "") for k in _KNOWN):
                # An unbalanced quote swallows every following line into one value: running the
                # rest would silently drop those rows, so the list as a whole is refused.
                raise ListFileError(f"{path}: lines {start}-{reader.line_num}: a quote opened on line {start} is not "
                                    "closed on that line, so these lines were read as one value; fix the quoting")
            extra = [v for v in rec.pop(None, None) or [] if v and v.strip()]
            if extra:  # silently dropping them would keep a row whose values have shifted
                rec[_EXTRA] = (f"{len(header) + len(extra)} values but the header has {len(header)} columns "
                               f"(a comma inside an unquoted value? quote it)")
            # Line number of the record's last line, 1-based including the header line.
            rows.append((reader.line_num, rec))
            start = reader.line_num + 1
        return rows


def _read_json(path: Path) -> list[tuple[int, dict[str, Any]]]:
    try:
        data = json.loads(path.read_text(encoding="utf-8-sig"))  # editors on Windows add a BOM
    except ValueError as exc:
        raise ListFileError(f"{path}: not valid JSON: {exc}") from None
    if not isinstance(data, list):
        raise ListFileError(f"{path}: expected a JSON array of objects, got {type(data).__name__}")
    return [(i + 1, rec) for i, rec in enumerate(data)]


def _read_jsonl(path: Path) -> list[tuple[int, dict[str, Any]]]:
    rows = []
    with path.open("r", encoding="utf-8-sig") as fh:
        for lineno, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                rows.append((lineno, json.loads(line)))
            except ValueError as exc:
                raise ListFileError(f"{path}: line {lineno}: not valid JSON: {exc}") from None
    return rows


READERS: dict[str, Callable[[Path], list[tuple[int, dict[str, Any]]]]] = {
    ".csv": _read_csv,
    ".json": _read_json,
    ".jsonl": _read_jsonl,
    ".ndjson": _read_jsonl,
}


def read_list(path: str | os.PathLike[str]) -> list[VideoRow]:
    """Parse and validate a list file; relative video paths resolve against its directory."""
    p = Path(path)
    if p.is_dir():
        raise ListFileError(f"{p}: is a folder; give the list file of its videos (.csv, .json or .jsonl)")
    if not p.is_file():
        raise ListFileError(f"{p}: list file not found")
    reader = READERS.get(p.suffix.lower())
    if reader is None:
        raise ListFileError(f"{p}: unknown list format {p.suffix!r} (use .csv, .json or .jsonl)")
    try:
        records = reader(p)
    except UnicodeDecodeError as exc:
        raise ListFileError(f"{p}: not a UTF-8 text file ({exc.reason})") from None
    if p.suffix.lower() != ".csv" and records and not any(isinstance(r, dict) and "video_path" in r for _, r in records):
        raise ListFileError(f"{p}: no record has a 'video_path' key")
    base = p.resolve().parent
    rows = [normalize(n, rec, base) for n, rec in records]
    mark_duplicates(rows)
    return rows


def normalize(row_no: int, rec: Any, base: Path) -> VideoRow:
    if not isinstance(rec, dict):
        return VideoRow(row_no, "", "", "", invalid=f"row {row_no}: expected an object, got {type(rec).__name__}")
    extra = rec.pop(_EXTRA, None)
    raw_path = _text(rec.get("video_path"))
    platform_id = _text(rec.get("platform_id")) or "local"
    given_id = _text(rec.get("video_id"))
    video_id = given_id or (derive_video_id(raw_path) if raw_path else "")
    metadata = {k: v for k, v in rec.items() if k not in _KNOWN}
    if "\x00" in raw_path:  # no file system accepts it (and os.stat raises on it): a row problem
        extra = extra or "video_path contains a NUL byte"
        raw_path = raw_path.replace("\x00", "\\0")
    # "~/videos/a.mp4" means the home folder, as in a shell (not a folder named "~" beside the list).
    full = os.path.expanduser(raw_path) if raw_path.startswith("~") else raw_path
    resolved = str((base / full).resolve()) if full and not os.path.isabs(full) else full
    row = VideoRow(row_no, resolved, platform_id, video_id,
                   channel_id=(str(rec["channel_id"]) if rec.get("channel_id") not in (None, "") else None),
                   published_at=(str(rec["published_at"]) if rec.get("published_at") not in (None, "") else None),
                   metadata=metadata, derived_id=not given_id)
    row.invalid = f"row {row_no}: {extra}" if extra else _row_problem(row_no, raw_path, resolved, platform_id, video_id)
    return row


def _text(value: Any) -> str:
    # Only a missing or blank value is absent: a JSON video_id of 0 is the id "0", not the file name.
    return "" if value is None else str(value).strip()


def _row_problem(row_no: int, raw_path: str, resolved: str, platform_id: str, video_id: str) -> str | None:
    if not raw_path:
        return f"row {row_no}: video_path is empty"
    for value, what in ((platform_id, "platform_id"), (video_id, "video_id")):
        problem = check_id(value, what)
        if problem:
            return f"row {row_no}: {problem}"
    problem = check_key(platform_id, video_id)
    if problem:
        return f"row {row_no}: {problem}"
    if not os.path.exists(resolved):
        return f"row {row_no}: file not found: {resolved}"
    if not os.path.isfile(resolved):
        return f"row {row_no}: not a regular file: {resolved}"
    if not os.access(resolved, os.R_OK):
        return f"row {row_no}: file not readable (permissions): {resolved}"
    return None


def mark_duplicates(rows: list[VideoRow]) -> None:
    """A repeated (platform_id, video_id) is invalid after its first occurrence.

    Valid rows claim their id before invalid ones: a stale row whose file is missing must not
    turn the corrected row of the same video into a "duplicate" (then neither would run)."""
    first: dict[tuple[str, str], VideoRow] = {}
    for row in sorted(rows, key=lambda r: r.invalid is not None):  # stable: list order within each group
        ident = (row.platform_id, row.video_id)
        if not row.video_id:
            continue
        if ident in first:
            prev = first[ident]
            hint = ""
            if row.derived_id and row.video_path != prev.video_path:
                # Same file name in two folders (or two extensions): say why and what to do.
                hint = (f": the video_id comes from the file name, which {prev.video_path} has too; "
                        "add a video_id column to tell them apart")
            row.invalid = row.invalid or (
                f"row {row.row}: duplicate (platform_id, video_id) {ident!r}, first seen in row {prev.row}{hint}"
            )
            # Keep keys unique inside the batch so logs and state do not collide.
            row.video_id = row.video_id if row.invalid is None else f"{row.video_id}~row{row.row}"
        else:
            first[ident] = row
