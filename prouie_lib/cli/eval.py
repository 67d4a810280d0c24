"""``prouie eval {score,compare,protocols}``: score predictions against gold data, compare two prediction files
on the same gold (paired bootstrap), list the scoring protocols."""

from __future__ import annotations

import argparse
import json
from typing import Any

from prouie_lib.formats.examples import FORMAT_EXAMPLES

PROTOCOL_NAMES = ("prouie", "instructuie", "iepile", "uie")  # keep in sync with protocols.PROTOCOLS (tested)


def register(sub: argparse._SubParsersAction) -> None:
    ev = sub.add_parser("eval", help="score predictions against gold data",
                        description="Score predictions (P/R/F1 per dataset, macro over datasets).",
                        epilog=FORMAT_EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    ev_sub = ev.add_subparsers(dest="eval_command", metavar="EVAL_COMMAND")
    score = ev_sub.add_parser("score", help="score a prediction file against a gold file",
                              epilog=FORMAT_EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    score.add_argument("--gold", required=True, help="gold records, unified JSONL")
    score.add_argument("--pred", required=True,
                       help="prediction JSONL: id + completion/format, or id + entities/relations/events")
    score.add_argument("--protocol", default="prouie", choices=PROTOCOL_NAMES,
                       help="scoring protocol (default: prouie; see `prouie eval protocols`)")
    score.add_argument("--bootstrap", type=int, default=0, metavar="N",
                       help="add a 95%% bootstrap interval to every F1 (N resamples of the records, seed 0)")
    score.add_argument("--json", action="store_true", help="print exactly one JSON object")
    score.set_defaults(func=score_command)
    compare = ev_sub.add_parser(
        "compare", help="paired test of two prediction files on the same gold (e.g. two dev runs' stage)",
        description="F1 of A and B, their difference and its two-sided paired bootstrap p-value (records "
                    "resampled together, 1,000 resamples, seed 0), per dataset and metric.")
    compare.add_argument("--gold", required=True, help="gold records, unified JSONL")
    compare.add_argument("--pred", required=True, nargs=2, metavar=("A", "B"), help="the two prediction files")
    compare.add_argument("--protocol", default="prouie", choices=PROTOCOL_NAMES, help="scoring protocol")
    compare.set_defaults(func=compare_command)
    protocols = ev_sub.add_parser("protocols", help="list the scoring protocols and their rules")
    protocols.set_defaults(func=protocols_command)
    ev.set_defaults(func=lambda args: (ev.print_help(), 2)[1])


def score_command(args: argparse.Namespace) -> int:
    from prouie_lib.data.io import read_json_objects, read_jsonl
    from prouie_lib.evaluation.score import score_predictions

    if args.bootstrap < 0:
        raise ValueError(f"--bootstrap: must be >= 0, got {args.bootstrap}")
    result = score_predictions(read_jsonl(args.gold), read_json_objects(args.pred), protocol=args.protocol,
                               gold_source=str(args.gold), pred_source=str(args.pred), bootstrap=args.bootstrap)
    print(json.dumps(result, ensure_ascii=False) if args.json else format_table(result))
    return 0


def compare_command(args: argparse.Namespace) -> int:
    from prouie_lib.data.io import read_json_objects, read_jsonl
    from prouie_lib.evaluation.bootstrap import paired_p_value
    from prouie_lib.evaluation.protocols import get_protocol
    from prouie_lib.evaluation.score import score_with_units

    gold = read_jsonl(args.gold)
    scored = [score_with_units(gold, read_json_objects(path), args.protocol, gold_source=str(args.gold),
                               pred_source=str(path)) for path in args.pred]
    (a, units_a), (b, units_b) = scored
    rule = get_protocol(args.protocol).scores
    print(f"protocol: {args.protocol}\nA: {args.pred[0]}\nB: {args.pred[1]}\n"
          f"{'dataset':<24} {'n':>6}  {'metric':<16} {'F1 A':>7} {'F1 B':>7} {'B - A':>7} {'p':>6}")
    for name, entry in a["datasets"].items():
        for metric, value in entry["metrics"].items():
            other = b["datasets"][name]["metrics"][metric]["f1"]
            p = paired_p_value(units_a[name][metric], units_b[name][metric], rule)
            print(f"{name:<24} {entry['n']:>6}  {metric:<16} {value['f1']:7.2f} {other:7.2f} "
                  f"{other - value['f1']:+7.2f} {p:6.3f}")
    return 0


def format_table(result: dict[str, Any]) -> str:
    """A readable table of a :func:`score_predictions` result; kit extensions are starred."""
    lines = [f"protocol: {result['protocol']}",
             f"{'dataset':<24} {'task':<4} {'n':>6}  {'metric':<16} {'P':>7} {'R':>7} {'F1':>7}"]
    starred = False
    for name, entry in result["datasets"].items():
        for k, (metric, v) in enumerate(entry["metrics"].items()):
            left = f"{name:<24} {entry['task']:<4} {entry['n']:>6}" if k == 0 else " " * 36
            star = "*" if v.get("source") == "kit extension" else " "
            starred = starred or star == "*"
            ci = f"  [{v['ci'][0]:.2f}, {v['ci'][1]:.2f}]" if "ci" in v else ""
            lines.append(f"{left}  {metric + star:<16} {v['p']:7.2f} {v['r']:7.2f} {v['f1']:7.2f}{ci}")
        lines.append(" " * 38 + f"parse errors {entry['parse_error_rate']:.2f}%  hallucinated spans "
                     f"{entry['hallucination_rate']:.2f}%  off-schema units {entry.get('off_schema_rate', 0.0):.2f}%"
                     f"  missing predictions {entry['missing']}")
    lines.append("macro F1 over datasets: " + (", ".join(f"{m} {f1:.2f}" for m, f1 in result["macro"].items())
                                               or "(no datasets)"))
    if starred:
        lines.append(f"* kit extension: {result['protocol']}'s own evaluator does not define this metric; "
                     "not a peer-comparable number")
    return "\n".join(lines)


def protocols_command(args: argparse.Namespace) -> int:
    from prouie_lib.evaluation.protocols import PROTOCOLS

    for name, proto in PROTOCOLS.items():
        print(f"== {name} ==\n{(type(proto).__doc__ or '').strip()}\n")
    return 0
