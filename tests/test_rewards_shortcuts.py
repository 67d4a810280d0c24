"""Reward shortcuts (issue 12 item 10): on gold from real test splits, a completion that spams every schema
label on every span, repeats units, uses the whole sentence as a span, leaves types blank or adds
hallucinated spans never scores as high as the gold completion — under every registered content reward.

``format`` is the one registered reward exempt by design: it scores form only (1 for any well-formed text),
so it cannot tell a shortcut from the gold; it is an ablation, never a training reward on its own.
The ordering table in :mod:`prouie_lib.rewards.sfr`'s docstring is produced here (in-repo sample split).
"""

from __future__ import annotations

import functools

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from prouie_lib.data import data_root, load_examples
from prouie_lib.rewards import REWARDS, get_reward
from prouie_lib.rewards import sfr as sfr_module
from prouie_lib.rewards.shortcuts import FMT, SHORTCUTS, has_gold_units, mean_rewards, shortcut_table
from prouie_lib.schema import TASK_FIELD

FORM_ONLY = {"format"}
SHORTCUT_KINDS = ("spam_labels", "repeat_units", "whole_sentence", "blank_types", "hallucinated")
REAL = ("CoNLL2003", "CoNLL04", "PHEE")


def content_rewards() -> list[str]:
    return sorted(set(REWARDS) - FORM_ONLY)


@functools.cache
def real_records() -> list[dict]:
    records = []
    for name in REAL:
        records += [r for r in load_examples(name, "test") if has_gold_units(r)]
    return records


def sample_records() -> list[dict]:
    return [r for r in load_examples("sample", "test") if has_gold_units(r)]


def differs_from_gold(record: dict, text: str) -> bool:
    """The shortcut is not, by accident, the gold itself (e.g. a one-label schema spammed on a gold span)."""
    from prouie_lib.formats import get_format
    from prouie_lib.formats.units import canonical

    labels, task = record.get("labels") or {}, record["task"]
    parsed = get_format(FMT).parse(text, labels, task)
    gold_parsed = get_format(FMT).parse(SHORTCUTS["gold"](record), labels, task)
    return not parsed.well_formed or canonical(parsed.structure, task) != canonical(gold_parsed.structure, task) \
        or len(parsed.structure[TASK_FIELD[task]]) != \
        len(gold_parsed.structure[TASK_FIELD[task]])


def check_record(record: dict) -> None:
    gold_text = SHORTCUTS["gold"](record)
    for name in content_rewards():
        reward = get_reward(name)
        best = reward(gold_text, record, FMT).total
        for kind in SHORTCUT_KINDS:
            text = SHORTCUTS[kind](record)
            if not differs_from_gold(record, text):
                continue
            got = reward(text, record, FMT).total
            assert got < best, (name, kind, record["id"], text[:200], got, best)


def test_the_form_only_exemption_is_the_format_reward():
    assert FORM_ONLY <= set(REWARDS)
    record = sample_records()[0]
    assert get_reward("format")(SHORTCUTS["spam_labels"](record), record, FMT).total == 1.0  # form only


def test_shortcuts_never_reach_the_gold_on_the_sample_split():
    for record in sample_records():
        check_record(record)


@pytest.mark.skipif(not (data_root() / "NER").is_dir(), reason="shared datasets not available")
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_shortcuts_never_reach_the_gold_on_real_test_gold(data):
    check_record(data.draw(st.sampled_from(real_records())))


@pytest.mark.skipif(not (data_root() / "NER").is_dir(), reason="shared datasets not available")
def test_sfr_and_strict_f1_shortcut_means_on_real_test_gold():
    # every record of the three splits, not a sample: each shortcut's mean stays below the gold's 1.0
    means = mean_rewards(real_records(), ("sfr", "strict_f1"))
    for kind in SHORTCUT_KINDS:
        for name in ("sfr", "strict_f1"):
            assert means[kind][name] < 0.9, (kind, name, means[kind][name])
    assert means["gold"] == {"sfr": 1.0, "strict_f1": 1.0}


def test_the_sfr_docstring_table_is_the_computed_one():
    doc = sfr_module.__doc__ or ""
    start = doc.index(".. shortcut-table-start") + len(".. shortcut-table-start")
    table = doc[start:doc.index(".. shortcut-table-end")].strip()
    assert table == shortcut_table(), "regenerate with: python -m prouie_lib.rewards.shortcuts"
