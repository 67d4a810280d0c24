"""Shortcut completions: outputs a policy could learn to game a reward with, built from a gold record.

Each builder writes streamlined-format text (escaped by hand, since :meth:`StreamlinedFormat.render` refuses
labels outside the schema) for a record with at least one gold unit:

- ``gold`` — the gold rendered;
- ``spam_labels`` — every schema label on every gold span (NER: each span with every entity type; RE: each
  gold pair with every relation type; EE: each trigger with every event type, each argument with every role);
- ``repeat_units`` — every gold unit written three times;
- ``whole_sentence`` — the whole input text as the span of every label;
- ``blank_types`` — the gold units with their labels (and RE entity types) left blank;
- ``hallucinated`` — the gold plus two units whose span is not in the text;
- ``truncated`` — the gold cut inside its last unit (the last character dropped), as at the generation limit;
- ``none`` — ``None``.

:func:`shortcut_table` is the table in :mod:`prouie_lib.rewards.sfr`'s docstring (a test checks they agree);
``python -m prouie_lib.rewards.shortcuts`` prints it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from prouie_lib.formats.streamlined import StreamlinedFormat, escape_label, escape_span
from prouie_lib.schema import TASK_FIELD, Record, argument_pairs, dedup_units, event_roles, task_labels

FMT = "streamlined"
HALLUCINATED_SPAN = "zzyzx qwv"
TABLE_REWARDS: tuple[str, ...] = ("sfr", "strict_f1", "exact_match", "format")


def _entity(etype: str, span: str) -> str:
    return f"({escape_label(etype)}: {escape_span(span)})"


def _relation(head: str, head_type: str, rtype: str, tail: str, tail_type: str) -> str:
    return (f"({escape_span(head)} [{escape_label(head_type)}] | {escape_label(rtype)} | "
            f"{escape_span(tail)} [{escape_label(tail_type)}])")


def _event(etype: str, trigger: str, args: Sequence[tuple[str, str]]) -> str:
    rest = "".join(f" | {escape_label(role)}: {escape_span(text)}" for role, text in args)
    return f"({escape_label(etype)}: {escape_span(trigger)}{rest})"


def _units(record: Record) -> list[dict[str, Any]]:
    return dedup_units(record["task"], record.get(TASK_FIELD[record["task"]]) or [])


def _write(record: Record, units: list[dict[str, Any]], *, blank: bool = False) -> str:
    task = record["task"]
    out = []
    for u in units:
        if task == "NER":
            out.append(_entity("" if blank else u["type"], u["text"]))
        elif task == "RE":
            h, t = u["head"], u["tail"]
            out.append(_relation(h["text"], "" if blank else h.get("type") or "", "" if blank else u["type"],
                                 t["text"], "" if blank else t.get("type") or ""))
        else:
            pairs = [("" if blank else role, text) for role, text in argument_pairs(u)]
            out.append(_event("" if blank else u["type"], u["trigger"]["text"], pairs))
    return "".join(out) or "None"


def gold(record: Record) -> str:
    return StreamlinedFormat().render(record)


def spam_labels(record: Record) -> str:
    task, labels = record["task"], record.get("labels") or {}
    out = []
    for u in _units(record):
        if task == "NER":
            out += [_entity(label, u["text"]) for label in task_labels(labels, task)]
        elif task == "RE":
            h, t = u["head"], u["tail"]
            out += [_relation(h["text"], h.get("type") or "", label, t["text"], t.get("type") or "")
                    for label in task_labels(labels, task)]
        else:
            texts = [text for _, text in argument_pairs(u)]
            out += [_event(etype, u["trigger"]["text"], [(role, text) for text in texts for role in roles])
                    for etype, roles in event_roles(labels).items()]
    return "".join(out)


def repeat_units(record: Record) -> str:
    return "".join(_write(record, [u]) * 3 for u in _units(record))


def whole_sentence(record: Record) -> str:
    task, labels, text = record["task"], record.get("labels") or {}, record["text"].strip()
    if task == "NER":
        return "".join(_entity(label, text) for label in task_labels(labels, task))
    if task == "RE":
        etype = (labels.get("entity_types") or [""])[0]
        return "".join(_relation(text, etype, label, text, etype) for label in task_labels(labels, task))
    return "".join(_event(etype, text, [(role, text) for role in roles])
                   for etype, roles in event_roles(labels).items())


def blank_types(record: Record) -> str:
    return _write(record, _units(record), blank=True)


def hallucinated(record: Record) -> str:
    task, labels = record["task"], record.get("labels") or {}
    label = task_labels(labels, task)[0]
    if task == "NER":
        extra = _entity(label, HALLUCINATED_SPAN) + _entity(label, HALLUCINATED_SPAN + " 2")
    elif task == "RE":
        etype = (labels.get("entity_types") or [""])[0]
        extra = _relation(HALLUCINATED_SPAN, etype, label, HALLUCINATED_SPAN + " 2", etype) * 1 + \
            _relation(HALLUCINATED_SPAN + " 3", etype, label, HALLUCINATED_SPAN, etype)
    else:
        role = event_roles(labels)[label][:1]
        extra = _event(label, HALLUCINATED_SPAN, [(r, HALLUCINATED_SPAN) for r in role]) + \
            _event(label, HALLUCINATED_SPAN + " 2", [])
    return gold(record) + extra


def truncated(record: Record) -> str:
    return gold(record)[:-1]


def none(record: Record) -> str:
    return "None"


SHORTCUTS: dict[str, Callable[[Record], str]] = {
    "gold": gold, "spam_labels": spam_labels, "repeat_units": repeat_units, "whole_sentence": whole_sentence,
    "blank_types": blank_types, "hallucinated": hallucinated, "truncated": truncated, "none": none,
}


def has_gold_units(record: Record) -> bool:
    return bool(_units(record)) and all(u.get("type") for u in _units(record))


def mean_rewards(records: Sequence[Record], rewards: Sequence[str] = TABLE_REWARDS) -> dict[str, dict[str, float]]:
    """{shortcut: {reward: mean total}} over ``records`` that have gold units."""
    from prouie_lib.rewards.registry import get_reward

    scored = [r for r in records if has_gold_units(r)]
    if not scored:
        raise ValueError("no record with gold units")
    out: dict[str, dict[str, float]] = {}
    for kind, build in SHORTCUTS.items():
        texts = [build(r) for r in scored]
        out[kind] = {name: sum(get_reward(name)(t, r, FMT).total for t, r in zip(texts, scored, strict=True))
                     / len(scored) for name in rewards}
    return out


def shortcut_table(records: Sequence[Record] | None = None) -> str:
    """The reST table of :func:`mean_rewards` (default: the in-repo ``sample`` test split)."""
    if records is None:
        from prouie_lib.data import load_examples

        records = load_examples("sample", "test")
    means = mean_rewards(records)
    widths = [17] + [max(6, len(name)) for name in TABLE_REWARDS]
    rule = "  ".join("=" * w for w in widths)
    head = "  ".join(h.ljust(w) for h, w in zip(("completion", *TABLE_REWARDS), widths, strict=True))
    rows = ["  ".join([kind.ljust(widths[0])] + [f"{means[kind][name]:.3f}".ljust(w)
                                                 for name, w in zip(TABLE_REWARDS, widths[1:], strict=True)])
            for kind in SHORTCUTS]
    return "\n".join([rule, head, rule, *[row.rstrip() for row in rows], rule]).replace(" \n", "\n")


if __name__ == "__main__":
    print(shortcut_table())
