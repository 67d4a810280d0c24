"""``prouie data {list,stats,convert}``: list datasets, print statistics, convert a split to unified JSON Lines."""

from __future__ import annotations

import argparse
import json


def register(sub: argparse._SubParsersAction) -> None:
    data = sub.add_parser("data", help="dataset registry, statistics and conversion to unified JSONL")
    actions = data.add_subparsers(dest="data_command", metavar="ACTION")
    data.set_defaults(func=lambda args: data.print_help() or 2)

    listing = actions.add_parser("list", help="list registered datasets")
    listing.add_argument("--task", choices=("NER", "RE", "EE", "mixed"), help="only datasets of this task")
    listing.set_defaults(func=_list)

    stats = actions.add_parser("stats", help="examples, mentions, labels, repairs/drops per split")
    stats.add_argument("dataset", metavar="NAME_OR_PATH", help="registry name or a dataset folder/file")
    stats.add_argument("--split", help="one split (default: all labeled splits)")
    stats.add_argument("--json", action="store_true", help="print exactly one JSON object")
    _common(stats)
    stats.set_defaults(func=_stats)

    convert = actions.add_parser("convert", help="write one split as unified JSON Lines")
    convert.add_argument("dataset", metavar="NAME_OR_PATH", help="registry name or a dataset folder/file")
    convert.add_argument("--split", required=True)
    convert.add_argument("--out", required=True, metavar="FILE.jsonl")
    convert.add_argument("--limit", type=int, help="write at most this many records (>= 0)")
    _common(convert)
    convert.set_defaults(func=_convert)


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--format", dest="fmt", help="source format (default: registry / auto-detect)")
    parser.add_argument("--data-root", help="data root (default: $PROUIE_DATA_ROOT or ../shared/datasets)")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--lenient", dest="lenient", action="store_true", default=None,
                      help="repair/drop bad records and count them")
    mode.add_argument("--strict", dest="lenient", action="store_false", help="fail on the first bad record")
    parser.add_argument("--raw-labels", action="store_true", help="keep source label names (no verbalizer)")


def _list(args: argparse.Namespace) -> int:
    from prouie_lib.data.registry import DATASETS

    print(f"{'name':<26} {'task':<5} {'format':<16} splits")
    for name, spec in DATASETS.items():
        if args.task and spec.task != args.task:
            continue
        splits = ", ".join(list(spec.splits) + [f"{s} (no gold)" for s in spec.unlabeled])
        print(f"{name:<26} {spec.task:<5} {spec.format:<16} {splits}")
    return 0


class _StrictHint:
    """Re-raise a record error of strict reading with a pointer to ``--lenient`` (the error names file and record)."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind, err, tb) -> bool:
        from prouie_lib.schema import RecordError

        if isinstance(err, RecordError) and self.args.lenient is not True and "--lenient" not in err.reason:
            raise RecordError(f"{err.reason} (--lenient repairs or drops such records and counts them)",
                              file=err.file, record=err.record, field=err.field) from err
        return False


def _stats(args: argparse.Namespace) -> int:
    from prouie_lib.data.stats import collect_stats, format_stats

    with _StrictHint(args):
        stats, reports = collect_stats(args.dataset, args.split, data_root=args.data_root, lenient=args.lenient,
                                       fmt=args.fmt, verbalize=not args.raw_labels)
    print(json.dumps(stats, ensure_ascii=False) if args.json else format_stats(stats, reports))
    return 0


def _convert(args: argparse.Namespace) -> int:
    from prouie_lib.data.io import write_jsonl
    from prouie_lib.data.loading import load_split

    with _StrictHint(args):
        result = load_split(args.dataset, args.split, data_root=args.data_root, lenient=args.lenient,
                            fmt=args.fmt, limit=args.limit, verbalize=not args.raw_labels)
    n = write_jsonl(result.records, args.out)
    print(f"wrote {n} records of {result.spec.name}/{result.split} to {args.out} ({result.report.summary()})")
    return 0
