"""Load a split of a registered dataset, or of any folder/file in a supported format, as unified records.

Pipeline per split: reader -> raw records -> id, dataset, task, split and the dataset's label
schema -> validation (strict, or lenient repair with counts) -> entities from relation arguments
where the format has no entity list -> label verbalization.

Ids are ``<dataset>/<split>/<n>`` (``n`` = position among the source examples of the split) or,
for document-level formats, ``<dataset>/<split>/<document>/<k>``.

A bare path gets an ad-hoc spec: a file is one split (named by the ``split`` argument); a folder's
split files are named by their stems (``train``/``dev``/``devel``/``test`` recognised; any other
stem, e.g. one file per corpus section, is a split name of its own).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from prouie_lib.data.io import read_jsonl
from prouie_lib.data.readers import detect_file_format, detect_format, get_reader, is_side_file
from prouie_lib.data.readers.base import RawRecord, ReadContext
from prouie_lib.data.readers.bionlp import sniff_folder
from prouie_lib.data.registry import (
    DATA_ROOT_ENV,
    DATASETS,
    DatasetSpec,
    canonical_split,
    data_root,
    find_spec,
    get_spec,
)
from prouie_lib.data.validation import ValidationReport, validate_record
from prouie_lib.schema import Labels, Record, make_record

TASK_LABEL_KEYS: dict[str, tuple[str, ...]] = {
    "NER": ("entity_types",), "RE": ("entity_types", "relation_types"), "EE": ("event_types",)}
_SPLIT_WORDS = ("train", "dev", "test")


@dataclass
class LoadResult:
    """The records of one split, the validation report, and the spec they were read with."""

    spec: DatasetSpec
    split: str
    records: list[Record] = field(default_factory=list)
    report: ValidationReport = field(default_factory=ValidationReport)


# ----------------------------------------------------------------------------------------------
# resolving names and paths


def _split_of_stem(stem: str) -> str | None:
    low = canonical_split(stem)
    if low in _SPLIT_WORDS:
        return low
    hits = [w for w in _SPLIT_WORDS if w in low or (w == "dev" and "valid" in low)]
    return hits[0] if len(hits) == 1 else None


def _name_splits(entries: list[Path]) -> dict[str, str]:
    """Split name -> entry name: canonical names when unambiguous, else the stems themselves."""
    guessed = {entry.name: _split_of_stem(entry.stem) for entry in entries}
    names = list(guessed.values())
    if all(names) and len(set(names)) == len(names):
        return {guessed[e.name]: e.name for e in entries}
    return {e.stem: e.name for e in entries}


def spec_from_path(path: str | Path, fmt: str | None = None, split: str | None = None) -> DatasetSpec:
    """An ad-hoc spec for a dataset folder or a single split file."""
    path = Path(path).expanduser().resolve()
    fmt = fmt or detect_format(path)
    reader = get_reader(fmt)
    if path.is_file():
        name = path.parent.name if _split_of_stem(path.stem) else path.stem
        split_name = canonical_split(split) if split else (_split_of_stem(path.stem) or path.stem)
        return DatasetSpec(name, reader.DEFAULT_TASK or "mixed", fmt, str(path.parent), {split_name: path.name})
    if fmt == "bionlp":
        if sniff_folder(path):
            split_name = canonical_split(split) if split else (_split_of_stem(path.name) or path.name)
            return DatasetSpec(path.parent.name, "EE", fmt, str(path.parent), {split_name: path.name})
        subs = [p for p in sorted(path.iterdir()) if p.is_dir() and sniff_folder(p)]
        named = _name_splits(subs)
        labeled = {k: v for k, v in named.items() if any((path / v).glob("*.a2"))}
        unlabeled = {k: v for k, v in named.items() if k not in labeled}
        return DatasetSpec(path.name, "EE", fmt, str(path), labeled, unlabeled=unlabeled,
                           notes="no .a2 gold annotation files")
    files = [f for f in sorted(path.iterdir()) if f.is_file() and not is_side_file(f)
             and detect_file_format(f) == fmt]
    return DatasetSpec(path.name, reader.DEFAULT_TASK or "mixed", fmt, str(path), _name_splits(files))


def resolve(name_or_path: str | Path, *, fmt: str | None = None, split: str | None = None,
            data_root: str | Path | None = None) -> DatasetSpec:
    """The registered spec for a name (case-insensitive), else a spec for an existing path.

    A folder that is exactly one registered dataset's folder gets that registered spec (its
    verbalizer, lenient flag and label schema); any other path gets an ad-hoc spec.
    """
    spec = find_spec(str(name_or_path)) if isinstance(name_or_path, str) else None
    if spec is not None:
        return spec
    path = Path(name_or_path).expanduser()
    if path.exists():
        if path.is_dir() and fmt is None:
            same = [s for s in DATASETS.values() if s.folder(data_root).resolve() == path.resolve()]
            if len(same) == 1:
                return same[0]
        return spec_from_path(path, fmt, split)
    text = str(name_or_path)
    if not isinstance(name_or_path, str) or text.startswith((".", "/", "~")) or "/" in text or "\\" in text:
        raise FileNotFoundError(f"{text}: no such file or folder (and no registered dataset of that name)")
    try:
        get_spec(text)
    except ValueError as err:
        raise ValueError(f"{err}; and {name_or_path!r} is no existing file or folder") from None
    raise AssertionError("unreachable")


def _check_folder(spec: DatasetSpec, root: str | Path | None) -> Path:
    folder = spec.folder(root)
    if not folder.exists():
        where = "the repository" if spec.in_repo else f"the data root {root if root is not None else data_root()}"
        raise FileNotFoundError(f"dataset {spec.name}: folder {folder} not found (looked under {where}; "
                                f"set ${DATA_ROOT_ENV} or pass data_root=)")
    return folder


# ----------------------------------------------------------------------------------------------
# label schema


def observed_labels(raws: list[RawRecord]) -> Labels:
    """Every label the raw records use or offer, sorted."""
    ents, rels, events = set(), set(), {}
    for raw in raws:
        offered = raw.offered or {}
        ents.update(offered.get("entity_types", []))
        rels.update(offered.get("relation_types", []))
        for etype, roles in offered.get("event_types", {}).items():
            events.setdefault(etype, set()).update(roles)
        ents.update(e["type"] for e in raw.entities)
        for rel in raw.relations:
            rels.add(rel["type"])
            ents.update((rel["head"]["type"], rel["tail"]["type"]))
        for ev in raw.events:
            events.setdefault(ev["type"], set()).update(a["role"] for a in ev["arguments"])
    return {"entity_types": sorted(ents), "relation_types": sorted(rels),
            "event_types": {t: sorted(r) for t, r in sorted(events.items())}}


_SCAN_CACHE: dict[tuple[str, ...], Labels] = {}


def _scan(spec: DatasetSpec, root) -> Labels:
    files = tuple(str(f) for split in spec.splits for f in spec.files(split, root))
    if files not in _SCAN_CACHE:
        reader = get_reader(spec.format)
        raws: list[RawRecord] = []
        for file in files:
            raws.extend(reader.read(Path(file), ReadContext(file=file, lenient=True)))
        _SCAN_CACHE[files] = observed_labels(raws)
    return _SCAN_CACHE[files]


def resolve_labels(spec: DatasetSpec, task: str, root=None) -> Labels:
    """The source label schema of ``spec`` for ``task``: declared, else label files, else scanned."""
    needed = TASK_LABEL_KEYS[task]
    labels: Labels = {k: v for k, v in (spec.labels or {}).items() if k in needed}
    reader = get_reader(spec.format)
    if len(labels) < len(needed) and hasattr(reader, "folder_labels"):
        folders = {f.parent for split in spec.splits for f in spec.files(split, root)}
        for folder in sorted(folders):
            for key, value in reader.folder_labels(folder, task).items():
                if key in needed:
                    labels.setdefault(key, value)
    if len(labels) < len(needed):
        scanned = _scan(spec, root)
        for key in needed:
            labels.setdefault(key, scanned[key])
    return {key: labels[key] for key in needed}


# ----------------------------------------------------------------------------------------------
# loading


def _derive_entities(record: Record) -> None:
    seen = set()
    for rel in record["relations"]:
        for arg in (rel["head"], rel["tail"]):
            key = (arg["text"], arg["type"], arg["start"], arg["end"])
            if key not in seen:
                seen.add(key)
                record["entities"].append(dict(arg))


def load_split(name_or_path: str | Path, split: str, *, data_root: str | Path | None = None,
               lenient: bool | None = None, limit: int | None = None, fmt: str | None = None,
               verbalize: bool = True) -> LoadResult:
    """Load one split with its validation report (see :func:`load_examples`)."""
    spec = resolve(name_or_path, fmt=fmt, split=split, data_root=data_root)
    root = data_root
    _check_folder(spec, root)
    split_name = spec.split_name(split)
    files = spec.files(split_name, root)
    lenient = spec.lenient if lenient is None else lenient
    result = LoadResult(spec=spec, split=split_name)
    for path in files:
        if not path.exists():
            raise FileNotFoundError(f"dataset {spec.name}, split {split_name}: {path} not found")
    if spec.format == "unified":
        for path in files:
            room = None if limit is None else limit - len(result.records)
            result.records += read_jsonl(path, lenient=lenient, report=result.report, limit=room)
            if limit is not None and len(result.records) >= limit:
                break
        return result
    reader = get_reader(spec.format)
    verbalizer = spec.verbalizer if verbalize else None
    schemas: dict[str, Labels] = {}
    position, per_doc = 0, {}
    for path in files:
        ctx = ReadContext(file=str(path), lenient=lenient, report=result.report)
        for raw in reader.read(path, ctx):
            task = raw.task or (spec.task if spec.task != "mixed" else reader.DEFAULT_TASK)
            if task not in schemas:
                schemas[task] = resolve_labels(spec, task, root)
            if raw.doc is None:
                rid = f"{spec.name}/{split_name}/{position}"
            else:
                k = per_doc.get(raw.doc, 0)
                per_doc[raw.doc] = k + 1
                rid = f"{spec.name}/{split_name}/{raw.doc}/{k}"
            position += 1
            record = make_record(id=rid, dataset=spec.name, task=task, split=split_name, text=raw.text,
                                 labels=schemas[task], entities=raw.entities, relations=raw.relations,
                                 events=raw.events)
            record = validate_record(record, file=str(path), record_index=raw.where, lenient=lenient,
                                     report=result.report)
            if record is None:
                continue
            if raw.entities_from_relations:
                _derive_entities(record)
            result.records.append(verbalizer.record(record) if verbalizer else record)
            if limit is not None and len(result.records) >= limit:
                return result
    return result


def load_examples(name_or_path: str | Path, split: str, *, data_root: str | Path | None = None,
                  lenient: bool | None = None, limit: int | None = None, fmt: str | None = None,
                  verbalize: bool = True) -> list[Record]:
    """Unified records of one split.

    ``name_or_path``: a registry name (case-insensitive, see ``registry.DATASETS``) or a dataset
    folder / split file in any supported format (detected, or given as ``fmt``). ``split``:
    ``train``/``dev``/``test`` (``devel``/``validation`` accepted) or the dataset's own split name.
    ``lenient``: None uses the registry's choice (strict for bare paths). ``limit``: stop after that
    many records (smoke runs). ``verbalize``: apply the dataset's label verbalizer (default) or keep
    the source label names.
    """
    return load_split(name_or_path, split, data_root=data_root, lenient=lenient, limit=limit, fmt=fmt,
                      verbalize=verbalize).records


def split_names(name_or_path: str | Path, *, fmt: str | None = None) -> list[str]:
    """The labeled splits of a dataset, in registry/folder order."""
    return list(resolve(name_or_path, fmt=fmt).splits)
