"""The bundled sample (data/sample): schema, offsets, counts, held-out test split, reproducibility."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from prouie_lib.schema import RECORD_FIELDS, TASK_FIELD, TASKS, RecordError, make_record

REPO = Path(__file__).resolve().parents[1]
SCRIPT = REPO / "data" / "make_sample.py"
SAMPLE = REPO / "data" / "sample"
SPLITS = ("train", "dev", "test")

# The documented label schema (data/sample/README.md); one schema per task, shared by every record.
ENTITY_TYPES = ["person", "organization", "location", "drug", "disease"]
RELATION_TYPES = ["work for", "located in", "born in", "treats", "founded by"]
EVENT_TYPES = {
    "acquisition": ["buyer", "target", "price"],
    "attack": ["attacker", "target", "place"],
    "approval": ["agency", "drug", "date"],
    "election": ["winner", "office", "place"],
}
EXPECTED_LABELS = {
    "NER": {"entity_types": ENTITY_TYPES},
    "RE": {"entity_types": ENTITY_TYPES, "relation_types": RELATION_TYPES},
    "EE": {"event_types": EVENT_TYPES},
}
RELATION_SIGNATURES = {
    "work for": {("person", "organization")},
    "located in": {("organization", "location"), ("location", "location")},
    "born in": {("person", "location")},
    "treats": {("drug", "disease")},
    "founded by": {("organization", "person")},
}
# The structure lists a record of each task may fill (RE records also list all their entities).
STRUCTURE_KEYS = {"NER": {"entities"}, "RE": {"entities", "relations"}, "EE": {"events"}}


def load_generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("prouie_make_sample", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up here
    spec.loader.exec_module(module)
    return module


def read_split(split: str) -> list[dict[str, Any]]:
    path = SAMPLE / f"{split}.jsonl"
    records = []
    for line_no, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError as err:
            raise RecordError(f"malformed JSON: {err}", file=str(path), record=line_no) from err
    return records


@pytest.fixture(scope="module")
def sample() -> dict[str, list[dict[str, Any]]]:
    return {split: read_split(split) for split in SPLITS}


@pytest.fixture(scope="module")
def generated() -> dict[str, list[tuple[str, dict[str, Any]]]]:
    return load_generator().generate()


def units(record: dict[str, Any]) -> int:
    return len(record[TASK_FIELD[record["task"]]])


def check_span(span: Any, text: str, where: str, field: str) -> None:
    if not isinstance(span, dict):
        raise RecordError("not an object", record=where, field=field)
    start, end = span.get("start"), span.get("end")
    if not (isinstance(start, int) and isinstance(end, int) and 0 <= start < end <= len(text)):
        raise RecordError(f"bad offsets {start!r}..{end!r}", record=where, field=field)
    if text[start:end] != span.get("text"):
        raise RecordError(f"text[{start}:{end}] is {text[start:end]!r}, span says {span.get('text')!r}",
                          record=where, field=field)
    if span["text"] != span["text"].strip():
        raise RecordError("span has outer whitespace", record=where, field=field)


def check_record(record: dict[str, Any], split: str, index: int) -> None:
    """Raise RecordError (naming record and field) on anything off-contract in a sample record."""
    where = f"{split}:{index}"
    if tuple(record) != RECORD_FIELDS:
        raise RecordError(f"fields {list(record)} != {list(RECORD_FIELDS)}", record=where, field="*")
    if make_record(**record) != record:
        raise RecordError("differs from make_record(...)", record=where, field="*")
    task, text = record["task"], record["text"]
    if task not in TASKS:
        raise RecordError(f"unknown task {task!r}", record=where, field="task")
    if record["dataset"] != f"Sample-{task}" or record["split"] != split:
        raise RecordError("wrong dataset/split", record=where, field="dataset")
    if not record["id"].startswith(f"Sample-{task}/{split}/") or not record["id"].rsplit("/", 1)[1].isdigit():
        raise RecordError(f"bad id {record['id']!r}", record=where, field="id")
    if not isinstance(text, str) or not text.strip() or text != text.strip():
        raise RecordError("empty or padded text", record=where, field="text")
    if record["labels"] != EXPECTED_LABELS[task]:
        raise RecordError(f"labels {record['labels']} are not the {task} schema", record=where, field="labels")
    for key in ("entities", "relations", "events"):
        if record[key] and key not in STRUCTURE_KEYS[task]:
            raise RecordError(f"a {task} record carries {key}", record=where, field=key)
    for i, ent in enumerate(record["entities"]):
        check_span(ent, text, where, f"entities[{i}]")
        if ent["type"] not in ENTITY_TYPES:
            raise RecordError(f"entity type {ent['type']!r} not in schema", record=where, field=f"entities[{i}]")
    for i, rel in enumerate(record["relations"]):
        if rel["type"] not in RELATION_TYPES:
            raise RecordError(f"relation type {rel['type']!r} not in schema", record=where,
                              field=f"relations[{i}]")
        for end in ("head", "tail"):
            if rel[end] not in record["entities"]:
                raise RecordError(f"{end} is not one of the record's entities", record=where,
                                  field=f"relations[{i}].{end}")
        if (rel["head"]["type"], rel["tail"]["type"]) not in RELATION_SIGNATURES[rel["type"]]:
            raise RecordError("argument types do not fit the relation", record=where, field=f"relations[{i}]")
    for i, event in enumerate(record["events"]):
        if event["type"] not in EVENT_TYPES:
            raise RecordError(f"event type {event['type']!r} not in schema", record=where, field=f"events[{i}]")
        check_span(event["trigger"], text, where, f"events[{i}].trigger")
        for j, arg in enumerate(event["arguments"]):
            check_span(arg, text, where, f"events[{i}].arguments[{j}]")
            if arg["role"] not in EVENT_TYPES[event["type"]]:
                raise RecordError(f"role {arg['role']!r} not in {event['type']!r}", record=where,
                                  field=f"events[{i}].arguments[{j}]")


def test_every_record_follows_the_contract(sample: dict[str, list[dict[str, Any]]]) -> None:
    for split, records in sample.items():
        for index, record in enumerate(records):
            check_record(record, split, index)


def test_checker_rejects_a_shifted_offset(sample: dict[str, list[dict[str, Any]]]) -> None:
    record = json.loads(json.dumps(next(r for r in sample["train"] if r["task"] == "EE" and r["events"])))
    record["events"][0]["arguments"][0]["start"] += 1
    with pytest.raises(RecordError, match="events\\[0\\].arguments\\[0\\]"):
        check_record(record, "train", 0)


def test_counts_per_split_and_task(sample: dict[str, list[dict[str, Any]]]) -> None:
    counts = {split: Counter(r["task"] for r in records) for split, records in sample.items()}
    for task in TASKS:
        assert counts["train"][task] >= 150
        assert 15 <= counts["dev"][task] <= 25
        assert counts["test"][task] >= 40
    assert sum(counts["train"].values()) >= 450
    assert sum(counts["test"].values()) >= 120
    for split, records in sample.items():
        for task in TASKS:
            ids = [r["id"] for r in records if r["task"] == task]
            assert ids == [f"Sample-{task}/{split}/{i}" for i in range(len(ids))]


def test_unit_count_mix(sample: dict[str, list[dict[str, Any]]]) -> None:
    """0-unit records are a few percent; 1, 2 and 3+ unit records exist for every task in train and test."""
    for split in ("train", "test"):
        for task in TASKS:
            per_record = [units(r) for r in sample[split] if r["task"] == task]
            zero = per_record.count(0)
            assert 1 <= zero <= 0.1 * len(per_record), (split, task, zero)
            assert {1, 2} <= set(per_record), (split, task)
            assert max(per_record) >= 3, (split, task)
    for task in TASKS:
        assert any(units(r) == 0 for r in sample["dev"] if r["task"] == task)


def test_re_and_ee_details(sample: dict[str, list[dict[str, Any]]]) -> None:
    records = [r for split in SPLITS for r in sample[split]]
    # RE: some sentences have entities that take part in no relation (hard negatives)
    assert any(r["entities"] and not r["relations"] for r in records if r["task"] == "RE")
    assert {rel["type"] for r in records for rel in r["relations"]} == set(RELATION_TYPES)
    events = [e for r in records for e in r["events"]]
    assert {e["type"] for e in events} == set(EVENT_TYPES)
    assert any(len(e["arguments"]) < len(EVENT_TYPES[e["type"]]) for e in events)  # missing arguments
    for event_type in EVENT_TYPES:
        triggers = {e["trigger"]["text"].lower() for e in events if e["type"] == event_type}
        assert len(triggers) >= 3, (event_type, triggers)


def test_sentences_are_short_and_unique(sample: dict[str, list[dict[str, Any]]]) -> None:
    texts = [r["text"] for split in SPLITS for r in sample[split]]
    duplicates = [text for text, n in Counter(texts).items() if n > 1]
    assert not duplicates
    for split in SPLITS:
        for task in TASKS:
            words = [len(r["text"].split()) for r in sample[split] if r["task"] == task]
            assert all(6 <= n <= 30 for n in words), (split, task, min(words), max(words))
            assert 10 <= sum(words) / len(words) <= 18, (split, task)


def named_strings(records: list[dict[str, Any]]) -> set[str]:
    """Every entity and event-argument string of ``records``."""
    strings = {ent["text"] for r in records for ent in r["entities"]}
    strings |= {arg["text"] for r in records for e in r["events"] for arg in e["arguments"]}
    return strings


def test_test_split_is_held_out(sample: dict[str, list[dict[str, Any]]],
                                generated: dict[str, list[tuple[str, dict[str, Any]]]]) -> None:
    train_strings = named_strings(sample["train"])
    test_strings = named_strings(sample["test"])
    assert test_strings and not test_strings & train_strings, sorted(test_strings & train_strings)[:10]
    # No template of the test split is used in train; the regenerated records are the committed ones.
    assert [record for _, record in generated["test"]] == sample["test"]
    assert [record for _, record in generated["train"]] == sample["train"]
    train_templates = {template_id for template_id, _ in generated["train"]}
    test_templates = {template_id for template_id, _ in generated["test"]}
    assert test_templates and not test_templates & train_templates
    for task in TASKS:
        used = {tid for split in SPLITS for tid, record in generated[split] if record["task"] == task}
        assert len(used) >= 25, (task, len(used))
        assert sum(1 for tid in test_templates if tid.startswith(f"{task}-")) >= 10


def test_generator_rejects_inconsistent_templates() -> None:
    gen = load_generator()
    bad = [
        gen.Template("RE", "{drug} employs {per} in {city}.", (("per", "work for", "drug"),), id="bad-sig"),
        gen.Template("RE", "{per} met {per}.", (("per", "born in", "city"),), id="bad-slot"),
        gen.Template("EE", "{company} [E1:bought] {company2}.",
                     events={"E1": ("acquisition", {"seller": "company"})}, id="bad-role"),
        gen.Template("EE", "{company} bought {company2}.",
                     events={"E1": ("acquisition", {"buyer": "company"})}, id="no-trigger"),
        gen.Template("NER", "{per} paid {money} (for it.", id="stray-markup"),
    ]
    for template in bad:
        with pytest.raises(ValueError, match=template.id):
            gen.check_template(template)


def test_committed_files_equal_a_fresh_generation(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    subprocess.run([sys.executable, str(SCRIPT), "--out", str(tmp_path), "--quiet"], check=True, env=env)
    for split in SPLITS:
        fresh = (tmp_path / f"{split}.jsonl").read_bytes()
        assert fresh == (SAMPLE / f"{split}.jsonl").read_bytes(), (
            f"data/sample/{split}.jsonl is stale: run `python data/make_sample.py`")


def test_another_seed_gives_other_sentences() -> None:
    gen = load_generator()
    other = gen.generate(seed=7)
    assert [r["text"] for _, r in other["test"]] != [r["text"] for _, r in gen.generate()["test"]]
    for split, rows in other.items():
        for index, (_, record) in enumerate(rows):
            check_record(record, split, index)
