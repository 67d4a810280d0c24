"""One reader per source format, and format detection for files and folders.

A reader module has ``NAME``, ``DEFAULT_TASK``, ``read(path, ctx) -> Iterator[RawRecord]`` (except
``unified``, read by :func:`prouie_lib.data.io.read_jsonl`), a ``sniff`` for detection, and
optionally ``folder_labels(folder, task)`` for label files kept beside the split files.
"""

from __future__ import annotations

import json
from pathlib import Path
from types import ModuleType
from typing import Any

from prouie_lib.data.readers import bio, bionlp, dygie, ie_instructions, phee, semeval, spert, unified, uniner

FORMATS: dict[str, ModuleType] = {m.NAME: m for m in (
    ie_instructions, bio, spert, dygie, semeval, phee, bionlp, uniner, unified)}
# Readers tried, in order, on the first element of a JSON array / the first JSON line / plain text.
_ARRAY_SNIFFERS = (uniner, spert, ie_instructions)
_LINES_SNIFFERS = (unified, phee, dygie)
_TEXT_SNIFFERS = (semeval, bio)
# Files that accompany split files but hold no examples.
SIDE_FILES = frozenset({"labels.json", "ner2idx.json", "rel2idx.json", "types.json", "LICENSE", "README",
                        "PROVENANCE.md"})
_HEAD_BYTES = 1 << 16


def get_reader(fmt: str) -> ModuleType:
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}; known formats: {', '.join(FORMATS)}")
    return FORMATS[fmt]


def is_side_file(path: Path) -> bool:
    return (path.name in SIDE_FILES or path.name.startswith(".") or path.suffix.lower() in (".md", ".py")
            or path.name.upper().startswith(("LICENSE", "README")))


def _first_array_element(path: Path, head: str) -> Any:
    body = head.lstrip()[1:].lstrip()
    if body.startswith("]"):
        return None
    try:
        return json.JSONDecoder().raw_decode(body)[0]
    except json.JSONDecodeError:  # the first element is longer than the head
        data = json.loads(path.read_text(encoding="utf-8-sig"))
        return data[0] if isinstance(data, list) and data else None


def detect_file_format(path: Path) -> str | None:
    """The format of one split file, or None when no reader recognises it."""
    with open(path, encoding="utf-8-sig", errors="replace") as handle:
        head = handle.read(_HEAD_BYTES)
    stripped = head.lstrip()
    if stripped.startswith("["):
        first = _first_array_element(path, head)
        return next((m.NAME for m in _ARRAY_SNIFFERS if m.sniff(path, first)), None)
    if stripped.startswith("{"):
        try:
            first = json.loads(stripped.split("\n", 1)[0])
        except json.JSONDecodeError:
            return None
        return next((m.NAME for m in _LINES_SNIFFERS if m.sniff(path, first)), None)
    return next((m.NAME for m in _TEXT_SNIFFERS if m.sniff(path, head)), None)


def detect_format(path: Path) -> str:
    """The format of a split file or of a dataset folder; a clear error when it cannot tell."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such file or folder")
    if path.is_dir():
        if bionlp.sniff_folder(path) or any(bionlp.sniff_folder(sub) for sub in path.iterdir() if sub.is_dir()):
            return "bionlp"
        found = {f: detect_file_format(f) for f in sorted(path.iterdir()) if f.is_file() and not is_side_file(f)}
        formats = sorted({fmt for fmt in found.values() if fmt})
        if len(formats) == 1:
            return formats[0]
        if formats:
            raise ValueError(f"{path}: files in several formats ({', '.join(formats)}); load one file, or pass "
                             "--format (fmt= in Python)")
        subdirs = sorted(p.name for p in path.iterdir() if p.is_dir())
        hint = f"; it has sub-folders {', '.join(subdirs)} (pick one)" if subdirs else ""
        raise ValueError(f"{path}: no split file in a known format{hint}")
    fmt = detect_file_format(path)
    if fmt is None:
        raise ValueError(f"{path}: cannot detect the format; pass --format (fmt= in Python), one of "
                         f"{', '.join(FORMATS)}")
    return fmt
