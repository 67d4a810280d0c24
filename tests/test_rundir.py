"""One definition of stage names and run-directory files: docs/run_directory.md and the code agree with it."""

from __future__ import annotations

import re

from prouie_lib import rundir


def test_docs_list_every_stage_and_file(repo_root):
    text = (repo_root / "docs" / "run_directory.md").read_text()
    for name in rundir.ALL_FILES:
        assert re.search(rf"(?<![\w-]){re.escape(name)}", text), f"docs/run_directory.md does not mention {name}"
    assert "one of " + ", ".join(rundir.STAGES) in text
    assert rundir.gold_file("<split>") in text


def test_every_stage_input_is_an_earlier_stage():
    for stage, source in rundir.STAGE_INPUT.items():
        assert stage in rundir.STAGES
        assert source is None or rundir.STAGES.index(source) < rundir.STAGES.index(stage)
    assert set(rundir.STAGE_LABELS) == set(rundir.STAGES)


def test_no_stray_run_directory_literals(repo_root):
    """File names of the run directory are spelled only in rundir.py (docstrings and comments aside)."""
    names = [n for n in rundir.ALL_FILES if "." in n]
    offenders = []
    for path in sorted((repo_root / "prouie_lib").rglob("*.py")):
        if path.name == "rundir.py":
            continue
        for number, line in enumerate(path.read_text().splitlines(), 1):
            code = line.split("#")[0]
            for name in names:
                if re.search(rf"[\"']{re.escape(name)}[\"']", code):
                    offenders.append(f"{path.relative_to(repo_root)}:{number}: {name}")
    assert not offenders, "use the constants of prouie_lib.rundir:\n" + "\n".join(offenders)
