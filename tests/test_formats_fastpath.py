"""The streamlined parser's fast path (string + mask) gives exactly the reference (token) path's results."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from prouie_lib.formats import FORMATS
from prouie_lib.formats import streamlined as sl
from prouie_lib.formats import streamlined_masked as fast
from prouie_lib.formats import streamlined_tokens as ref
from prouie_lib.formats.base import ParseResult
from prouie_lib.schema import TASK_FIELD, argument, entity, make_record, span

SETTINGS = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])

LABELS = {
    "entity_types": ["per", "loc", "x y", "a:b"],
    "relation_types": ["work for", "per", "r(1)"],
    "event_types": {"Attack": ["role", "per", "loc"], "x y": ["loc"], "a|b": ["r]"]},
}
# fragments that hit every branch of the grammar: specials, escapes, labels of the schema, None, EOS markers
FRAGMENTS = (list("()|:[]\\ \n\t,;x") + ["\\(", "\\)", "\\|", "\\:", "\\[", "\\]", "\\\\", "\\ ", "\\\n"]
             + ["None", "none", "per", "loc", "x y", "a\\:b", "work for", "r\\(1\\)", "Attack", "role",
                "a\\|b", "r\\]", " [per]", " [loc]", " | ", ": ", "</s>", "<|im_end|>", "\u2028", "\x00", "é"])
_any_char = st.characters(blacklist_categories=("Cs",))
texts = st.one_of(
    st.text(_any_char, max_size=40),
    st.lists(st.sampled_from(FRAGMENTS), max_size=30).map("".join),
    st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.text(_any_char, max_size=3)), max_size=20).map("".join),
)
tasks = st.sampled_from(["NER", "RE", "EE"])
_field = st.lists(st.sampled_from(FRAGMENTS[:24] + ["ab", "c d"]), min_size=1, max_size=5).map("".join)
field = _field.map(str.strip).filter(bool)


def _seg_of(tokens: list[ref.Token]) -> fast.Seg:
    """The (characters, mask) pair that corresponds to a token list."""
    return "".join(c for c, _ in tokens), "".join(fast.MASK if e else c for c, e in tokens)


def _same(quick: ParseResult, slow: ParseResult) -> None:
    assert quick.structure == slow.structure
    assert quick.errors == slow.errors
    assert quick.well_formed == slow.well_formed
    assert quick.dropped_labels == slow.dropped_labels


@SETTINGS
@given(texts)
def test_masked_matches_tokenize(text):
    assert fast.masked(text) == _seg_of(ref.tokenize(text))


EDGE_CASES = ["a [per]\\ ", "a [per]\\\n", "a [per] \t", "(per: a\\", "\\", "x)(y", "((a|b)|c) | d",
              " None ", "(per: a) None", "a\\:b: c", "[x]] ]", "(a\\)", "a [ per ]", "b [\tloc ]\\"]


def _check_primitives(text: str, sep: str) -> None:
    tokens, seg = ref.tokenize(text), fast.masked(text)
    assert fast.plain(seg) == ref.plain(tokens)
    assert fast.split(seg, sep) == [_seg_of(part) for part in ref.split(tokens, sep)]
    parts = ref.partition(tokens, sep)
    assert fast.partition(seg, sep) == (None if parts is None else (_seg_of(parts[0]), _seg_of(parts[1])))
    assert fast.typed_span(seg) == ref.typed_span(tokens)
    fast_result, slow_result = ParseResult(), ParseResult()
    fast_units, fast_none = fast.scan_units(seg, fast_result)
    slow_units, slow_none = ref.scan_units(tokens, slow_result)
    assert fast_units == [_seg_of(unit) for unit in slow_units]
    assert fast_none == slow_none and fast_result.errors == slow_result.errors


@SETTINGS
@given(texts, st.sampled_from([":", "|"]))
def test_primitives_agree(text, sep):
    _check_primitives(text, sep)


@pytest.mark.parametrize("text", EDGE_CASES)
@pytest.mark.parametrize("task", ["NER", "RE", "EE"])
@pytest.mark.parametrize("keep_types", [True, False])
def test_parse_agrees_on_edge_cases(text, task, keep_types):
    assert fast.masked(text) == _seg_of(ref.tokenize(text))
    _check_primitives(text, ":")
    _check_primitives(text, "|")
    _same(sl.StreamlinedFormat(keep_types).parse(text, LABELS, task),
          sl.StreamlinedFormat(keep_types, fast_path=False).parse(text, LABELS, task))
    for wrapped in (f"(per: {text} [loc])", f"({text} | work for | {text})"):
        _same(sl.StreamlinedFormat(keep_types).parse(wrapped, LABELS, task),
              sl.StreamlinedFormat(keep_types, fast_path=False).parse(wrapped, LABELS, task))


@SETTINGS
@given(texts, tasks, st.booleans())
def test_parse_agrees_on_arbitrary_strings(text, task, keep_types):
    _same(sl.StreamlinedFormat(keep_types, fast_path=True).parse(text, LABELS, task),
          sl.StreamlinedFormat(keep_types, fast_path=False).parse(text, LABELS, task))


@st.composite
def rendered_and_mutated(draw):
    """A valid streamlined target for a record over LABELS, then cut, spliced or left intact."""
    task = draw(tasks)
    if task == "NER":
        ents = draw(st.lists(st.tuples(st.sampled_from(LABELS["entity_types"]), field), max_size=5))
        record = make_record(id="x", dataset="D", task=task, split="test", text="t", labels=LABELS,
                             entities=[entity(text, t) for t, text in ents])
    elif task == "RE":
        end = st.tuples(field, st.sampled_from(LABELS["entity_types"]))
        rels = draw(st.lists(st.tuples(end, st.sampled_from(LABELS["relation_types"]), end), max_size=4))
        record = make_record(id="x", dataset="D", task=task, split="test", text="t", labels=LABELS,
                             relations=[{"head": entity(h, ht), "type": r, "tail": entity(t, tt)}
                                        for (h, ht), r, (t, tt) in rels])
    else:
        roles = LABELS["event_types"]
        events = []
        for _ in range(draw(st.integers(0, 3))):
            etype = draw(st.sampled_from(sorted(roles)))
            args = draw(st.lists(st.tuples(st.sampled_from(roles[etype]), field), max_size=3))
            events.append({"type": etype, "trigger": span(draw(field)),
                           "arguments": [argument(role, text) for role, text in args]})
        record = make_record(id="x", dataset="D", task=task, split="test", text="t", labels=LABELS,
                             events=events)
    keep_types = draw(st.booleans())
    text = sl.StreamlinedFormat(keep_types).render(record)
    cut = draw(st.integers(0, len(text)))
    edit = draw(st.sampled_from(["none", "truncate", "insert", "delete"]))
    if edit == "truncate":
        text = text[:cut]
    elif edit == "insert":
        text = text[:cut] + draw(st.sampled_from(FRAGMENTS)) + text[cut:]
    elif edit == "delete":
        text = text[:cut] + text[cut + 1:]
    return text, task, keep_types


@SETTINGS
@given(rendered_and_mutated())
def test_parse_agrees_on_rendered_and_broken_targets(case):
    text, task, keep_types = case
    _same(sl.StreamlinedFormat(keep_types, fast_path=True).parse(text, LABELS, task),
          sl.StreamlinedFormat(keep_types, fast_path=False).parse(text, LABELS, task))


@pytest.mark.parametrize("text, task, n_units", [
    (r"(per: A \(B\) | C)(loc: D)", "NER", 3),
    (r"(A\|B [per] | work for | C [loc])", "RE", 1),
    (r"(Attack: hit \[x\] | role: a\: b | loc: (nested) place)", "EE", 1),
])
def test_fast_path_reads_escapes(text, task, n_units):
    result = FORMATS["streamlined"].parse(text, LABELS, task)
    assert result.well_formed, result.errors
    units = result.structure[TASK_FIELD[task]]
    assert len(units) == n_units
    _same(result, sl.StreamlinedFormat(fast_path=False).parse(text, LABELS, task))


def test_registered_formats_use_the_fast_path(monkeypatch):
    """The registry's parsers never touch the token path (a regression to it would cost ~5x in GRPO rewards)."""

    class Forbidden:
        def __getattr__(self, name):
            raise AssertionError(f"token path used: {name}")

    monkeypatch.setattr(sl, "TOKEN_OPS", Forbidden())
    for name in ("streamlined", "streamlined-notypes"):
        assert FORMATS[name].fast_path
        result = FORMATS[name].parse(r"(A \(x\) [per] | work for | B [loc])", LABELS, "RE")
        assert result.structure["relations"] and not any("internal" in e for e in result.errors)
