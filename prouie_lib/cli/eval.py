"""``prouie eval {score,compare,keep-best,protocols}``: score predictions against gold data, compare two prediction
files on the same gold (paired bootstrap), replay keep-best rules on a stage's recorded checks, list the scoring
protocols."""

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
    add_after_head(score)
    score.set_defaults(func=score_command)
    compare = ev_sub.add_parser(
        "compare", help="paired test of two prediction files on the same gold (e.g. two dev runs' stage)",
        description="F1 of A and B, their difference and its two-sided paired bootstrap p-value (records "
                    "resampled together, 1,000 resamples, seed 0), per dataset and metric.")
    compare.add_argument("--gold", required=True, help="gold records, unified JSONL")
    compare.add_argument("--pred", required=True, nargs=2, metavar=("A", "B"), help="the two prediction files")
    compare.add_argument("--protocol", default="prouie", choices=PROTOCOL_NAMES, help="scoring protocol")
    add_after_head(compare)
    compare.set_defaults(func=compare_command)
    replay = ev_sub.add_parser(
        "keep-best", help="replay another keep-best rule on a stage's recorded dev checks (no training)",
        description="Re-score a stage's keep-best checks (<stage>/keep_best_predictions/) under another rule: the "
                    "first N dev records per dataset, a margin, a per-dataset floor; every check is also scored on "
                    "the recorded dev records after the first --assess-after per dataset, which did not select it.")
    replay.add_argument("stage_dir", help="a stage folder of a run directory, e.g. runs/NAME/de")
    replay.add_argument("--head", type=int, default=None, metavar="N",
                        help="select on the first N records per dataset (default: the recorded keep_best_limit)")
    replay.add_argument("--margin", type=float, default=0.0, help="as trainer.keep_best_margin (default 0)")
    replay.add_argument("--max-drop", type=float, default=None, help="as trainer.keep_best_max_drop (default: off)")
    replay.add_argument("--assess-after", type=int, default=None, metavar="N",
                        help="score every check on the records after the first N per dataset (default: --head)")
    replay.add_argument("--json", action="store_true", help="print exactly one JSON object")
    replay.set_defaults(func=keep_best_command)
    protocols = ev_sub.add_parser("protocols", help="list the scoring protocols and their rules")
    protocols.set_defaults(func=protocols_command)
    ev.set_defaults(func=lambda args: (ev.print_help(), 2)[1])


def add_after_head(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--after-head", type=int, default=None, metavar="N",
                        help="score only the gold records after the first N of each dataset (in file order), e.g. "
                             "the dev records a keep-best head of N (trainer.keep_best_limit) did not select on; "
                             "prediction lines for the first N are set aside")


def held_out(args: argparse.Namespace, gold: list[dict[str, Any]],
             preds: list[Any]) -> tuple[list[dict[str, Any]], list[Any]]:
    """``gold`` and ``preds`` as they are, or, with ``--after-head N``, without each dataset's first N records."""
    if args.after_head is None:
        return gold, preds
    if args.after_head < 0:
        raise ValueError(f"--after-head: must be >= 0, got {args.after_head}")
    from prouie_lib.stages.stage_data import split_head

    head, rest = split_head(gold, args.after_head)
    dropped = {str(r["id"]) for r in head}
    return rest, [line for line in preds if not (isinstance(line, dict) and str(line.get("id")) in dropped)]


def score_command(args: argparse.Namespace) -> int:
    from prouie_lib.data.io import read_json_objects, read_jsonl
    from prouie_lib.evaluation.score import score_predictions

    if args.bootstrap < 0:
        raise ValueError(f"--bootstrap: must be >= 0, got {args.bootstrap}")
    gold, preds = held_out(args, read_jsonl(args.gold), read_json_objects(args.pred))
    result = score_predictions(gold, preds, protocol=args.protocol,
                               gold_source=str(args.gold), pred_source=str(args.pred), bootstrap=args.bootstrap)
    print(json.dumps(result, ensure_ascii=False) if args.json else format_table(result))
    return 0


def compare_command(args: argparse.Namespace) -> int:
    from prouie_lib.data.io import read_json_objects, read_jsonl
    from prouie_lib.evaluation.bootstrap import paired_p_value
    from prouie_lib.evaluation.protocols import get_protocol
    from prouie_lib.evaluation.score import score_with_units

    gold = read_jsonl(args.gold)
    scored = [score_with_units(*held_out(args, gold, read_json_objects(path)), args.protocol,
                               gold_source=str(args.gold), pred_source=str(path)) for path in args.pred]
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


def keep_best_command(args: argparse.Namespace) -> int:
    from prouie_lib.analysis.keep_best_rules import format_replay, replay_keep_best

    result = replay_keep_best(args.stage_dir, head=args.head, margin=args.margin, max_drop=args.max_drop,
                              assess_after=args.assess_after)
    print(json.dumps(result) if args.json else format_replay(result))
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
