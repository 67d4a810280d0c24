"""Property tests: parse(render(r)) gives r's structure back; parse never raises on any string."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from prouie_lib.formats import FORMATS
from prouie_lib.formats.base import OFF_SCHEMA, ParseResult
from prouie_lib.formats.units import canonical
from prouie_lib.schema import TASK_FIELD, argument, entity, event_roles, make_record, span, task_labels

SPECIALS = list("\\()|[]:;,\"'{} \n\t") + ["None", "</s>", "```"]
_chars = st.characters(blacklist_categories=("Cs",))
_text = st.one_of(st.text(_chars, max_size=20),
                  st.lists(st.sampled_from(SPECIALS + list("abcXYZ09")), max_size=12).map("".join))
# spans and labels as readers produce them: non-empty, no surrounding whitespace
field = _text.map(str.strip).filter(bool)
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def ner_records(draw):
    types = draw(st.lists(field, min_size=1, max_size=4, unique=True))
    ents = draw(st.lists(st.tuples(st.sampled_from(types), field), max_size=5))
    return make_record(id="x", dataset="D", task="NER", split="test", text="t", labels={"entity_types": types},
                       entities=[entity(text, t) for t, text in ents])


@st.composite
def re_records(draw):
    etypes = draw(st.lists(field, min_size=1, max_size=3, unique=True))
    rtypes = draw(st.lists(field, min_size=1, max_size=3, unique=True))
    end = st.tuples(field, st.sampled_from(etypes))
    rels = draw(st.lists(st.tuples(end, st.sampled_from(rtypes), end), max_size=4))
    return make_record(id="x", dataset="D", task="RE", split="test", text="t",
                       labels={"entity_types": etypes, "relation_types": rtypes},
                       relations=[{"head": entity(h, ht), "type": r, "tail": entity(t, tt)}
                                  for (h, ht), r, (t, tt) in rels])


@st.composite
def ee_records(draw):
    etypes = draw(st.lists(field, min_size=1, max_size=3, unique=True))
    roles = {t: draw(st.lists(field.filter(lambda r: r != "trigger"), max_size=3, unique=True)) for t in etypes}
    events = []
    for _ in range(draw(st.integers(0, 3))):
        etype = draw(st.sampled_from(etypes))
        args = draw(st.lists(st.tuples(st.sampled_from(roles[etype]), field), max_size=3)) if roles[etype] else []
        events.append({"type": etype, "trigger": span(draw(field)),
                       "arguments": [argument(role, text) for role, text in args]})
    return make_record(id="x", dataset="D", task="EE", split="test", text="t", labels={"event_types": roles},
                       events=events)


records = st.one_of(ner_records(), re_records(), ee_records())


def _without_entity_types(keys):
    return sorted({(r, h, "", t, "") for r, h, _, t, _ in keys})


@SETTINGS
@given(records, st.sampled_from(sorted(FORMATS)))
def test_round_trip(record, fmt_name):
    fmt = FORMATS[fmt_name]
    text = fmt.render(record)
    result = fmt.parse(text, record["labels"], record["task"])
    assert result.well_formed, (text, result.errors)
    assert result.dropped_labels == 0
    want = canonical(record, record["task"])
    if fmt_name == "streamlined-notypes" and record["task"] == "RE":
        want = _without_entity_types(want)
    assert canonical(result.structure, record["task"]) == want, text


def _check_result(result, record):
    assert isinstance(result, ParseResult)
    assert isinstance(result.well_formed, bool) and isinstance(result.dropped_labels, int)
    assert result.well_formed == (not result.errors)
    allowed = set(task_labels(record["labels"], record["task"]))
    units = result.structure["entities"] + result.structure["relations"] + result.structure["events"]
    for unit in units:  # a label outside the schema is kept, flagged (and counted in dropped_labels)
        assert unit["type"] in allowed or unit.get(OFF_SCHEMA)
    for ent in result.structure["entities"]:
        assert ent["text"].strip()
    roles = event_roles(record["labels"])
    for ev in result.structure["events"]:
        assert ev.get(OFF_SCHEMA) or all(a["role"] in roles[ev["type"]] or a.get(OFF_SCHEMA) for a in ev["arguments"])
    flagged = units + [a for ev in result.structure["events"] for a in ev["arguments"]]
    assert result.dropped_labels == sum(1 for unit in flagged if unit.get(OFF_SCHEMA))


@SETTINGS
@given(records, st.sampled_from(sorted(FORMATS)), st.text(_chars, max_size=200))
def test_parse_never_raises_on_any_string(record, fmt_name, text):
    _check_result(FORMATS[fmt_name].parse(text, record["labels"], record["task"]), record)


@SETTINGS
@given(records, st.sampled_from(sorted(FORMATS)), st.data())
def test_parse_never_raises_on_damaged_output(record, fmt_name, data):
    """Near-valid text (a rendered target cut, spliced or with junk inserted) is the realistic case."""
    fmt = FORMATS[fmt_name]
    text = fmt.render(record)
    cut = data.draw(st.integers(0, len(text)))
    junk = data.draw(st.lists(st.sampled_from(SPECIALS), max_size=4).map("".join))
    damaged = data.draw(st.sampled_from([text[:cut], text[:cut] + junk + text[cut:], text[cut:],
                                         text + junk, junk + text]))
    _check_result(fmt.parse(damaged, record["labels"], record["task"]), record)
    # a cut-off output never yields more units than the full one
    if damaged == text[:cut]:
        full = fmt.parse(text, record["labels"], record["task"]).structure
        partial = fmt.parse(damaged, record["labels"], record["task"]).structure
        key = TASK_FIELD[record["task"]]
        assert len(partial[key]) <= len(full[key])
