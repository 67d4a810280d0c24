"""README's layout section names every module of prouie_lib, and nothing that is not there."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "prouie_lib"
_ENTRY = re.compile(r"^  (\w+(?:\.py|/))\s+(.*)$")  # "  name.py  text" or "  name/  text" under prouie_lib/
_NAME = re.compile(r"^\w+/?$")


def layout_entries(readme: str) -> dict[str, str]:
    """``{"schema.py": text, "stages/": text, ...}`` from the ``prouie_lib/`` part of the layout block."""
    block = readme[readme.index("## Layout"):]
    block = block[block.index("```") + 3:]
    block = block[:block.index("```")]
    lines = block.splitlines()
    start = lines.index("prouie_lib/") + 1
    entries: dict[str, str] = {}
    name = None
    for line in lines[start:]:
        if not line.startswith("  "):  # the next top-level folder
            break
        match = _ENTRY.match(line)
        if match:
            name = match.group(1)
            entries[name] = match.group(2)
        elif name is not None:
            entries[name] += " " + line.strip()
    return entries


def _without_parentheses(text: str) -> str:
    while True:
        stripped = re.sub(r"\([^()]*\)", "", text)
        if stripped == text:
            return text
        text = stripped


def listed_modules(text: str) -> set[str]:
    """The first word of each comma-separated item once parenthesised remarks are removed."""
    return {item.strip().split()[0] for item in _without_parentheses(text).split(",") if item.strip()}


def modules_of(folder: Path) -> set[str]:
    names = {p.stem for p in folder.glob("*.py") if p.stem not in ("__init__", "__main__")}
    return names | {p.name + "/" for p in folder.iterdir() if (p / "__init__.py").is_file()}


def test_layout_names_every_module_and_only_those():
    entries = layout_entries((ROOT / "README.md").read_text())
    top = {p.name for p in PACKAGE.glob("*.py") if p.stem != "__init__"}
    top |= {p.name + "/" for p in PACKAGE.iterdir() if (p / "__init__.py").is_file()}
    assert set(entries) == top
    for name, text in entries.items():
        if not name.endswith("/"):
            continue
        listed = listed_modules(text)
        assert all(_NAME.match(x) for x in listed), (name, listed)  # items are module names, remarks in ()
        assert listed == modules_of(PACKAGE / name), name
        for sub in (x for x in listed if x.endswith("/")):  # "widgets/ (base, inspector, ...)" lists its modules
            remark = re.search(re.escape(sub) + r" \(([^()]*)\)", text)
            names = {x.strip() for x in remark.group(1).split(",")} if remark else set()
            if names and all(_NAME.match(x) for x in names):
                assert names == modules_of(PACKAGE / name / sub), sub


def test_listed_modules_reads_items_and_skips_remarks():
    assert listed_modules("a (x, y), b, c (z (w)), d/ (e, f)") == {"a", "b", "c", "d/"}
