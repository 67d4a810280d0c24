"""Instructions: a record becomes chat messages stating the task, its label schema, the answer format and the text.

Prompts are deliberately short (a 135M model trains on them on CPU: every token costs). For example (NER,
streamlined)::

    Extract entities of these types: person, location, organization.
    Answer with (type: span | span ...) for each entity type found, or None.
    Text: Barack Obama visited Paris.

RE lists the relation types (and, when the format writes entity types, the entity types); EE lists each event
type with its roles, ``Attack (attacker, place); Election (voter)``. Labels appear in schema order (or in
``label_subset`` order). Large schemas can be split across several prompts IEPile-style (:func:`split_schema`),
each chunk prompted with ``label_subset=chunk``, and the predictions merged back (:func:`merge_structures`).
"""

from __future__ import annotations

import random
from collections.abc import Sequence

from prouie_lib.formats import get_format
from prouie_lib.formats.base import TargetFormat
from prouie_lib.formats.units import merge_structures, restrict_record
from prouie_lib.schema import Record, check_task, entity_types, event_roles, task_labels

DEFAULT_SYSTEM = "You extract information from text and answer exactly in the requested format."
# IEPile's defaults for --split_num: 6 labels per instruction for NER, 4 for the other tasks.
IEPILE_SPLIT_NUM: dict[str, int] = {"NER": 6, "RE": 4, "EE": 4}

__all__ = ["DEFAULT_SYSTEM", "IEPILE_SPLIT_NUM", "build_messages", "instruction", "merge_structures",
           "split_schema"]


def instruction(record: Record, fmt: str | TargetFormat = "streamlined") -> str:
    """The user message: task and schema, answer format, text."""
    task = check_task(record["task"])
    target = get_format(fmt)
    labels = record.get("labels") or {}
    if task == "NER":
        schema = f"Extract entities of these types: {', '.join(entity_types(labels))}."
    elif task == "RE":
        schema = f"Extract relations of these types: {', '.join(task_labels(labels, 'RE'))}."
        etypes = entity_types(labels)
        if etypes and getattr(target, "needs_entity_types", True):
            schema += f"\nEntity types: {', '.join(etypes)}."
    else:
        events = "; ".join(f"{etype} ({', '.join(roles)})" if roles else etype
                           for etype, roles in event_roles(labels).items())
        schema = f"Extract events of these types (with their roles): {events}."
    describe = getattr(target, "describe", None)
    answer = describe(task) if describe else f"Answer in the {target.name} format."
    return f"{schema}\n{answer}\nText: {record['text']}"


def build_messages(record: Record, *, system: str | None = DEFAULT_SYSTEM, fmt: str | TargetFormat = "streamlined",
                   label_subset: Sequence[str] | None = None) -> list[dict[str, str]]:
    """Chat messages (optional system + user) asking for ``record``'s structure in format ``fmt``.

    ``label_subset`` offers only those task labels (see :func:`split_schema`); ``system=None`` leaves the
    system message out.
    """
    if label_subset is not None:
        record = restrict_record(record, label_subset)
    messages = [{"role": "system", "content": system}] if system else []
    messages.append({"role": "user", "content": instruction(record, fmt)})
    return messages


def split_schema(record: Record, split_num: int | None = None, *, rng: random.Random | None = None
                 ) -> list[list[str]]:
    """The record's task labels cut into chunks of at most ``split_num`` (IEPile's ``--split_num``).

    ``split_num=None`` uses IEPile's default for the task (:data:`IEPILE_SPLIT_NUM`); ``rng`` shuffles the
    labels first (IEPile's ``--random_sort``). A schema with no labels gives one empty chunk. Prompt each chunk
    with ``build_messages(record, label_subset=chunk)``, render its target from
    ``restrict_record(record, chunk)``, and merge the parsed chunk predictions with :func:`merge_structures`.
    """
    task = check_task(record["task"])
    size = IEPILE_SPLIT_NUM[task] if split_num is None else split_num
    if size < 1:
        raise ValueError(f"split_num must be >= 1, got {split_num}")
    labels = task_labels(record.get("labels") or {}, task)
    if rng is not None:
        labels = labels[:]
        rng.shuffle(labels)
    return [labels[i:i + size] for i in range(0, len(labels), size)] or [[]]
