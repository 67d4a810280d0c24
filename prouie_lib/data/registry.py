"""The declarative dataset registry: name -> task, format, folder, split files, verbalizer.

Folders are relative to the data root: ``$PROUIE_DATA_ROOT``, else ``../shared/datasets`` beside
the repository (see :func:`data_root`); the bundled ``sample`` lives in the repository itself.
Names are matched case-insensitively. Where a corpus has two copies, the IE_INSTRUCTIONS copy (the
one the ProUIE paper trains on) or the sentence-level copy is the default name and the other
carries a suffix (``CoNLL04-spert``, ``BC5CDR-iob``, ``SciERC-dygie``).

``labels`` declares the source label schema where the folder has no label file (checked against
the data by the tests); otherwise the schema comes from the label files (``labels.json``,
``ner2idx.json``/``rel2idx.json``) or, for datasets loaded from a bare path, from the labels
seen in all split files. ``lenient`` marks sources known to be noisy: they load in lenient mode by
default (repairs/drops are counted and reported by ``prouie data stats``).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from prouie_lib.data.readers.base import UnlabeledSplitError
from prouie_lib.data.verbalizers import Verbalizer
from prouie_lib.schema import TASK_DIFFICULTY, Labels

REPO_ROOT = Path(__file__).resolve().parents[2]
DATA_ROOT_ENV = "PROUIE_DATA_ROOT"
SPLIT_ALIASES = {"devel": "dev", "development": "dev", "valid": "dev", "validation": "dev", "val": "dev",
                 "training": "train", "testing": "test"}


def data_root() -> Path:
    """``$PROUIE_DATA_ROOT`` if set, else ``<repo>/../shared/datasets`` (which may not exist)."""
    env = os.environ.get(DATA_ROOT_ENV)
    return Path(env).expanduser() if env else REPO_ROOT.parent / "shared" / "datasets"


def canonical_split(name: str) -> str:
    low = name.lower()
    return SPLIT_ALIASES.get(low, low)


@dataclass(frozen=True, eq=False)
class DatasetSpec:
    """One dataset: where its split files are and how to read them.

    ``splits`` maps a split name to a file or folder (or several, concatenated) under ``path``;
    ``unlabeled`` lists splits that exist but have no gold annotation (loading them is an error).
    """

    name: str
    task: str  # "NER" | "RE" | "EE", or "mixed" for unified files holding several tasks
    format: str
    path: str
    splits: Mapping[str, str | tuple[str, ...]]
    verbalizer: Verbalizer = field(default_factory=Verbalizer)
    lenient: bool = False
    labels: Labels | None = None
    unlabeled: Mapping[str, str] = field(default_factory=dict)
    in_repo: bool = False
    notes: str = ""

    def folder(self, root: str | Path | None = None) -> Path:
        base = REPO_ROOT if self.in_repo else Path(root) if root is not None else data_root()
        return base / self.path

    def split_name(self, split: str) -> str:
        """The registered split name for ``split`` (aliases such as ``devel`` accepted)."""
        for name in (split, canonical_split(split)):
            if name in self.splits:
                return name
        for name in (split, canonical_split(split)):
            if name in self.unlabeled:
                return name
        known = ", ".join(self.splits)
        raise ValueError(f"dataset {self.name} has no split {split!r}; splits: {known}")

    def files(self, split: str, root: str | Path | None = None) -> list[Path]:
        name = self.split_name(split)
        if name in self.unlabeled:
            raise UnlabeledSplitError(
                f"dataset {self.name}: split {name!r} has no gold annotations ({self.notes or 'withheld'}); "
                f"labeled splits: {', '.join(self.splits)}")
        entry = self.splits[name]
        names = (entry,) if isinstance(entry, str) else entry
        return [self.folder(root) / n for n in names]


# ----------------------------------------------------------------------------------------------
# verbalizers


def _kbp_name(label: str) -> str:
    kind, _, rel = label.partition(":")
    rel = rel.replace("stateorprovince", "state or province").replace("/", " or ").replace("_", " ")
    subject = {"per": "person", "org": "organization"}.get(kind, kind)
    return f"{subject} {rel}".strip()


_CROSSNER_NAMES = {
    "organisation": "organization", "misc": "miscellaneous", "programlang": "program language",
    "literarygenre": "literary genre", "musicalartist": "musical artist",
    "musicalinstrument": "musical instrument", "musicgenre": "music genre",
    "politicalparty": "political party", "academicjournal": "academic journal",
    "astronomicalobject": "astronomical object", "chemicalcompound": "chemical compound",
    "chemicalelement": "chemical element",
}
_CROSSNER_TYPES = {
    "ai": ["algorithm", "conference", "country", "field", "location", "metrics", "misc", "organisation",
           "person", "product", "programlang", "researcher", "task", "university"],
    "literature": ["award", "book", "country", "event", "literarygenre", "location", "magazine", "misc",
                   "organisation", "person", "poem", "writer"],
    "music": ["album", "award", "band", "country", "event", "location", "misc", "musicalartist",
              "musicalinstrument", "musicgenre", "organisation", "person", "song"],
    "politics": ["country", "election", "event", "location", "misc", "organisation", "person",
                 "politicalparty", "politician"],
    "science": ["academicjournal", "astronomicalobject", "award", "chemicalcompound", "chemicalelement",
                "country", "discipline", "enzyme", "event", "location", "misc", "organisation", "person",
                "protein", "scientist", "theory", "university"],
}
_UNINER_FILES = {"ai": "CrossNER_AI.json", "literature": "CrossNER_literature.json",
                 "music": "CrossNER_music.json", "politics": "CrossNER_politics.json",
                 "science": "CrossNER_science.json"}
_KBP_TYPES = [
    "org:alternate_names", "org:city_of_headquarters", "org:country_of_headquarters", "org:founded",
    "org:founded_by", "org:members", "org:stateorprovince_of_headquarters", "org:subsidiaries",
    "org:top_members/employees", "per:alternate_names", "per:cities_of_residence",
    "per:countries_of_residence", "per:country_of_birth", "per:employee_of", "per:origin", "per:spouse",
    "per:stateorprovinces_of_residence", "per:title"]
_SEMEVAL_TYPES = ["Cause-Effect", "Component-Whole", "Content-Container", "Entity-Destination", "Entity-Origin",
                  "Instrument-Agency", "Member-Collection", "Message-Topic", "Product-Producer"]
_REGULATION_ROLES = ["Theme", "Cause", "Site", "CSite"]
_GENIA_EVENTS = {
    "Gene_expression": ["Theme"], "Transcription": ["Theme"], "Protein_catabolism": ["Theme"],
    "Phosphorylation": ["Theme", "Site"], "Localization": ["Theme", "AtLoc", "ToLoc"],
    "Binding": ["Theme", "Theme2", "Theme3", "Theme4", "Site", "Site2"],
    "Regulation": _REGULATION_ROLES, "Positive_regulation": _REGULATION_ROLES,
    "Negative_regulation": _REGULATION_ROLES,
}
_PHEE_ROLES = ["Subject", "Subject.Age", "Subject.Gender", "Subject.Population", "Subject.Race",
               "Subject.Disorder", "Treatment", "Treatment.Drug", "Treatment.Dosage", "Treatment.Freq",
               "Treatment.Route", "Treatment.Time_elapsed", "Treatment.Duration", "Treatment.Disorder",
               "Treatment.Combination", "Effect"]
_STANDARD_SPLITS = {"train": "train.json", "dev": "dev.json", "test": "test.json"}
_TSV_SPLITS = {"train": "train.tsv", "dev": "devel.tsv", "test": "test.tsv"}
_TRIPLE_SPLITS = {"train": "train_triples.json", "dev": "dev_triples.json", "test": "test_triples.json"}


def _specs() -> list[DatasetSpec]:
    humanize = Verbalizer(humanize=True)
    specs = [
        DatasetSpec("sample", "mixed", "unified", "data/sample",
                    {"train": "train.jsonl", "dev": "dev.jsonl", "test": "test.jsonl"}, in_repo=True,
                    notes="Bundled sample written for the kit (NER, RE and EE records; each record names "
                          "its own dataset, e.g. Sample-NER)."),
        # ---- NER
        DatasetSpec("CoNLL2003", "NER", "ie_instructions", "NER/CoNLL2003/ie_instructions", _STANDARD_SPLITS,
                    Verbalizer({"else": "miscellaneous"}), notes="IE_INSTRUCTIONS copy; 'else' = MISC."),
        DatasetSpec("BC5CDR", "NER", "ie_instructions", "NER/BC5CDR/ie_instructions", _STANDARD_SPLITS, humanize,
                    notes="IE_INSTRUCTIONS copy (same sentences as BC5CDR-iob; dev lacks 2 'St .' mentions; "
                          "a repeated name may sit at its first occurrence)."),
        DatasetSpec("BC5CDR-iob", "NER", "bio", "NER/BC5CDR/iob_cambridgeltl", _TSV_SPLITS, humanize,
                    labels={"entity_types": ["Chemical", "Disease"]}, notes="cambridgeltl IOB2 copy."),
        DatasetSpec("AnatEM", "NER", "bio", "NER/AnatEM/iob_cambridgeltl", _TSV_SPLITS, humanize,
                    labels={"entity_types": ["Anatomy"]}),
        DatasetSpec("bc2gm", "NER", "bio", "NER/bc2gm/iob_cambridgeltl", _TSV_SPLITS,
                    Verbalizer({"GENE": "gene"}), labels={"entity_types": ["GENE"]}),
        # ---- RE
        DatasetSpec("CoNLL04", "RE", "ie_instructions", "RE/CoNLL04/ie_instructions", _STANDARD_SPLITS,
                    Verbalizer({"People": "person"}, humanize=True), lenient=True,
                    labels={"entity_types": ["Location", "Organization", "People"]},
                    notes="IE_INSTRUCTIONS copy: 6 argument offsets point at a wrong (sub)string; lenient mode "
                          "re-locates them. A name occurring twice sits at its first occurrence (text is right, "
                          "offsets may differ from CoNLL04-spert)."),
        DatasetSpec("CoNLL04-spert", "RE", "spert", "RE/CoNLL04/spert_json", _TRIPLE_SPLITS,
                    Verbalizer({"Peop": "person", "Org": "organization", "Loc": "location", "Other": "other",
                                "OrgBased_In": "organization based in", "Located_In": "located in",
                                "Live_In": "live in", "Work_For": "work for", "Kill": "kill"}),
                    notes="SpERT copy; also lists entities in no relation (incl. type Other)."),
        DatasetSpec("SciERC", "RE", "spert", "RE/SciERC/spert_json", _TRIPLE_SPLITS, humanize,
                    notes="SpERT sentence-level copy (-LRB-/-RRB- replaced by brackets)."),
        DatasetSpec("SciERC-dygie", "RE", "dygie", "RE/SciERC/dygie_doc_json", _STANDARD_SPLITS, humanize,
                    labels={"entity_types": ["Task", "Method", "Metric", "Material", "OtherScientificTerm",
                                             "Generic"],
                            "relation_types": ["USED-FOR", "FEATURE-OF", "EVALUATE-FOR", "CONJUNCTION",
                                               "PART-OF", "HYPONYM-OF", "COMPARE"]},
                    notes="Original document-level SciERC (PTB escapes kept); one record per sentence."),
        DatasetSpec("ADE", "RE", "spert", "RE/ADE/spert_json",
                    {"train": "ade_split_0_train.json", "test": "ade_split_0_test.json"}, humanize,
                    notes="Cross-validation fold 0 as train/test (no dev split is distributed); "
                          "ADE-fold1..9 and ADE-full give the other folds and the whole corpus."),
        DatasetSpec("ADE-full", "RE", "spert", "RE/ADE/spert_json", {"full": "ade_full.json"}, humanize,
                    notes="The whole ADE corpus in one split."),
        DatasetSpec("SemEval2010_Task8", "RE", "semeval", "RE/SemEval2010_Task8",
                    {"train": "TRAIN_FILE.TXT", "test": "TEST_FILE_FULL.TXT"},
                    labels={"entity_types": ["entity"], "relation_types": _SEMEVAL_TYPES},
                    notes="RE over the marked pair; 'Other' = no relation; entity type placeholder 'entity'. "
                          "TEST_FILE.txt + TEST_FILE_KEY.TXT are not used (the key has no directions)."),
        DatasetSpec("kbp37", "RE", "semeval", "RE/kbp37",
                    {"train": "train.txt", "dev": "dev.txt", "test": "test.txt"},
                    Verbalizer({t: _kbp_name(t) for t in _KBP_TYPES}),
                    labels={"entity_types": ["entity"], "relation_types": _KBP_TYPES}, lenient=True,
                    notes="RE over the marked pair; 'no_relation' = no relation; entity type placeholder 'entity'. "
                          "Some marked mentions are empty (non-ASCII names lost upstream): lenient mode drops "
                          "the empty entity and its relation, keeping the sentence."),
        # ---- EE
        DatasetSpec("PHEE", "EE", "phee", "EE/PHEE/json", _STANDARD_SPLITS,
                    Verbalizer({"Treatment.Freq": "treatment frequency"}, humanize=True),
                    labels={"event_types": {"Adverse_event": _PHEE_ROLES,
                                            "Potential_therapeutic_event": _PHEE_ROLES}},
                    notes="Main arguments and sub-arguments as roles (Subject.Age, Treatment.Drug, ...); "
                          "attributes Severity/Speculated/Negated omitted."),
        DatasetSpec("GENIA2011-GE", "EE", "bionlp", "EE/GENIA2011-GE/original-data",
                    {"train": "train", "dev": "devel"},
                    Verbalizer({"CSite": "cause site", "AtLoc": "at location", "ToLoc": "to location",
                                "Theme2": "theme 2", "Theme3": "theme 3", "Theme4": "theme 4", "Site2": "site 2"},
                               humanize=True),
                    labels={"event_types": _GENIA_EVENTS}, unlabeled={"test": "test"},
                    notes="BioNLP-ST 2011 test gold (.a2) is withheld: evaluate on dev"),
    ]
    for k in range(10):
        specs.append(DatasetSpec(f"ADE-fold{k}", "RE", "spert", "RE/ADE/spert_json",
                                 {"train": f"ade_split_{k}_train.json", "test": f"ade_split_{k}_test.json"},
                                 humanize, notes=f"Cross-validation fold {k}."))
    for domain, types in _CROSSNER_TYPES.items():
        specs.append(DatasetSpec(f"CrossNER-{domain}", "NER", "bio", f"NER/CrossNER/bio_original/{domain}",
                                 {"train": "train.txt", "dev": "dev.txt", "test": "test.txt"},
                                 Verbalizer(_CROSSNER_NAMES), labels={"entity_types": types},
                                 notes="Original CrossNER BIO release; types verbalized to UniNER's names."))
        specs.append(DatasetSpec(f"CrossNER-{domain}-uniner", "NER", "uniner", "NER/CrossNER/uniner_test_conversations",
                                 {"test": _UNINER_FILES[domain]}, lenient=True,
                                 notes="UniNER evaluation conversations (test only, no offsets); repeated "
                                       "sentences with conflicting answers keep the first answer."))
    return specs


DATASETS: dict[str, DatasetSpec] = {spec.name: spec for spec in _specs()}
_BY_LOWER = {name.lower(): spec for name, spec in DATASETS.items()}


def find_spec(name: str) -> DatasetSpec | None:
    return _BY_LOWER.get(name.lower())


def get_spec(name: str) -> DatasetSpec:
    """The registered dataset ``name`` (case-insensitive); otherwise a ValueError naming close matches."""
    spec = find_spec(name)
    if spec is None:
        import difflib

        close = difflib.get_close_matches(name.lower(), [n.lower() for n in DATASETS], n=3, cutoff=0.6)
        names = [n for n in sorted(DATASETS, key=str.lower) if n.lower() in close]
        hint = f"did you mean {', '.join(names)}? " if names else ""
        raise ValueError(f"unknown dataset {name!r}; {hint}`prouie data list` shows the {len(DATASETS)} "
                         "registered names")
    return spec


def names_by_task(task: str) -> list[str]:
    """Registered dataset names of one task."""
    return [name for name, spec in DATASETS.items() if spec.task == task]


def curriculum_order(names: list[str]) -> list[str]:
    """Dataset names sorted by task difficulty (NER < RE < EE, the CM curriculum), stable otherwise."""
    def rank(name: str) -> int:
        return TASK_DIFFICULTY.get(get_spec(name).task, len(TASK_DIFFICULTY))
    return sorted(names, key=rank)
