"""The peers' own rules, reproduced character for character so that our scores match their evaluators
(``../shared/reference/landscape.md`` §2): InstructUIE's string normalization and target texts, IEPile's
de-duplication of gold and its reading of raw JSON output. The protocol classes of
:mod:`~prouie_lib.evaluation.protocols` apply them; ``tests/test_evaluation_protocols.py`` and
``tests/test_evaluation_peer_rules.py`` pin them.
"""

from __future__ import annotations

import json
import re

from prouie_lib import schema
from prouie_lib.schema import NA_RELATION_TYPES, Structure, empty_structure

# ---------------------------------------------------------------- InstructUIE


def instructuie_format(text: str) -> str:
    """InstructUIE's ``EvaluatorBase._format`` (``_remove_redundant_space`` included), character for character."""
    s = " ".join(text.split())
    s = re.sub(r"\s*(,|:|\(|\)|\.|_|;|'|-)\s*", r"\1", s)
    s = s.lower()
    s = s.replace("{", "").replace("}", "")
    s = re.sub(",+", ",", s)
    s = re.sub(r"\.+", ".", s)
    s = re.sub(";+", ";", s)
    s = s.replace("’", "'")
    s = s.replace("location", "located")
    return s


def ner_target(structure: Structure) -> str:
    """InstructUIE's NER target text (``load_NER_dataset``)."""
    pairs = [f"{e['type']}: {e['text']}" for e in structure.get("entities") or []]
    return " " + "; ".join(pairs) if pairs else " None"


def re_target(structure: Structure) -> str:
    """InstructUIE's RE ``ground_truth`` text (``load_RE_dataset``; NA relations written as ``NA``)."""
    pairs = []
    for r in structure.get("relations") or []:
        rtype = "NA" if r["type"] in NA_RELATION_TYPES else r["type"]
        pairs.append(f"{rtype}: {r['head']['text']}, {r['tail']['text']}")
    return " " + "; ".join(pairs) if pairs else " None"


# ---------------------------------------------------------------- IEPile


def unique_by(items: list, key) -> list:
    seen: set = set()
    out = []
    for item in items:
        k = key(item)
        if k not in seen:
            seen.add(k)
            out.append(item)
    return out


IEPILE_NAN = "NAN"


def iepile_extract(text: str, task: str) -> Structure:
    """Units of one raw ``complete``-format output read by IEPile's extracter rules (``NERExtracter``,
    ``REExtracter``, ``EEExtracter.post_process``), with our key names (``head``/``tail`` for IEPile's
    ``subject``/``object``; an event's roles are its non-``trigger`` keys, IEPile's ``arguments``)."""
    out = empty_structure()
    try:
        obj = json.loads(text)
    except ValueError:
        return out
    if not isinstance(obj, dict):
        return out
    for key, values in obj.items():
        if not isinstance(values, list):  # IEPile: type(values) != list -> continue
            continue
        for item in values:
            if task == "NER":
                if isinstance(item, str):
                    out["entities"].append(schema.entity(item, key))
            elif task == "RE":
                if not isinstance(item, dict):
                    continue
                head, tail = item.get("head", ""), item.get("tail", "")
                if isinstance(head, str) and isinstance(tail, str):
                    types = [item.get(k) if isinstance(item.get(k), str) else "" for k in ("head_type", "tail_type")]
                    out["relations"].append(schema.relation(head, types[0], key, tail, types[1]))
            elif isinstance(item, dict) and isinstance(item.get("trigger", ""), str):
                args = []
                for role, value in item.items():
                    if role == "trigger":
                        continue
                    for arg in value if isinstance(value, list) else [value]:
                        if arg != IEPILE_NAN:
                            args.append((role, arg if isinstance(arg, str) else json.dumps(arg)))
                out["events"].append(schema.event(key, item.get("trigger", ""), args))
    return out
