"""The example completions in the CLI help parse, in their format, to the relation they claim."""

from __future__ import annotations

import re

import pytest

from prouie_lib.data import data_root, load_examples
from prouie_lib.formats import FORMATS, get_format
from prouie_lib.formats.examples import FORMAT_EXAMPLES


def _example(fmt: str) -> str:
    block = FORMAT_EXAMPLES.split("\nNER:")[0]
    match = re.search(rf"^  {re.escape(fmt)} +(.+?)(?=^  \S|\Z)", block, re.M | re.S)
    assert match, fmt
    return " ".join(line.strip() for line in match.group(1).splitlines())


@pytest.mark.skipif(not (data_root() / "RE").is_dir(), reason="shared datasets not available")
@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_help_examples_parse_to_the_relation(fmt):
    record = next(r for r in load_examples("CoNLL04", "test") if any(
        rel["head"]["text"] == "Reagan" and rel["type"] == "live in" for rel in r["relations"]))
    parsed = get_format(fmt).parse(_example(fmt), record["labels"], "RE")
    assert parsed.well_formed
    assert [(r["head"]["text"], r["type"], r["tail"]["text"]) for r in parsed.structure["relations"]] == [
        ("Reagan", "live in", "America")]
