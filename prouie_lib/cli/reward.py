"""``prouie reward {score,replay,list}``: score completions against gold, replay logged completions."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from prouie_lib.cli.overrides import add_set_arg, parse_overrides
from prouie_lib.formats.examples import FORMAT_EXAMPLES
from prouie_lib.schema import RecordError

OPTION_EXAMPLE = "floor=-1"


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("reward", help="score completions with a reward; replay reward traces",
                            description="Score completions with a registered reward, or replay logged GRPO "
                                        "completions under another reward design.",
                            epilog=FORMAT_EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    actions = parser.add_subparsers(dest="reward_command", metavar="ACTION")

    score = actions.add_parser("score", help="score completions (or structured predictions) against gold")
    score.add_argument("--gold", required=True, help="gold records, JSONL (unified schema)")
    score.add_argument("--completions", required=True,
                       help='JSONL lines {"id", "completion", "format"} or {"id", "entities", "relations", '
                            '"events"} (structured: scored as well-formed)')
    score.add_argument("--reward", default="sfr", help="registered reward name (default: sfr)")
    score.add_argument("--format", dest="fmt", default=None,
                       help="target format for completion lines without a 'format' field")
    _add_common(score)
    score.set_defaults(func=_score, check=_check_reward)

    replay = actions.add_parser("replay", help="re-score logged completions (reward_traces.jsonl)")
    replay.add_argument("--traces", required=True, help="runs/<name>/de/reward_traces.jsonl")
    replay.add_argument("--reward", required=True, help="registered reward name to replay with")
    replay.add_argument("--output", default=None, help="write the re-scored lines here (JSONL)")
    _add_common(replay)
    replay.set_defaults(func=_replay, check=_check_replay)

    listing = actions.add_parser("list", help="list registered rewards")
    listing.set_defaults(func=_list)
    parser.set_defaults(func=lambda args: (parser.print_help(), 0)[1])


def _add_common(parser: argparse.ArgumentParser) -> None:
    add_set_arg(parser, "reward option, e.g. --set format=0.2 --set entity_type=1.0 --set floor=-1")
    parser.add_argument("--json", action="store_true", help="print JSON")


def _check_reward(args: argparse.Namespace) -> None:
    """The reward spec resolves: a registered name, module:function or path/to/file.py:function."""
    from prouie_lib.rewards.registry import UnknownRewardError, resolve_reward

    try:
        resolve_reward(args.reward)
    except UnknownRewardError as err:
        raise RecordError(str(err), field="--reward") from None


def _check_replay(args: argparse.Namespace) -> None:
    """The reward resolves, and the first trace line has the fields a reward trace holds (catches a log or
    prediction file passed by mistake)."""
    from prouie_lib.data.io import iter_json_objects
    from prouie_lib.rewards.replay import TRACE_FIELDS

    _check_reward(args)
    for number, line in iter_json_objects(args.traces):
        missing = [key for key in TRACE_FIELDS if key not in line]
        if missing:
            raise RecordError(f"not a reward trace (a DE stage's reward_traces.jsonl): missing {missing}",
                              file=args.traces, record=f"line {number}", field=missing[0])
        return


def _options(args: argparse.Namespace) -> dict[str, Any]:
    return parse_overrides(args.set, example=OPTION_EXAMPLE)


def _score(args: argparse.Namespace) -> int:
    from prouie_lib.rewards.scoring import component_means, score_file

    report = score_file(args.gold, args.completions, args.reward, fmt=args.fmt, options=_options(args))
    if report["missing"]:
        print(f"prouie reward score: {report['missing']} gold record(s) in {args.gold} have no completion "
              "(not scored)", file=sys.stderr)
    if args.json:
        print(json.dumps({k: report[k] for k in ("reward", "mean", "items")}, ensure_ascii=False))
        return 0
    items = report["items"]
    print(f"reward {report['reward']}: {len(items)} item(s), mean "
          f"{'n/a' if report['mean'] is None else format(report['mean'], '.4f')}")
    print(f"  {'component':<26} {'mean':>8}  over")
    for key, (mean, count) in component_means(items).items():
        print(f"  {key:<26} {mean:8.4f}  {count} of {len(items)} items")
    return 0


def _replay(args: argparse.Namespace) -> int:
    from prouie_lib.rewards.replay import replay_traces, summarize_replay

    replayed = replay_traces(args.traces, args.reward, **_options(args))
    summary = summarize_replay(replayed)
    if args.output:
        Path(args.output).parent.mkdir(parents=True, exist_ok=True)
        with open(args.output, "w", encoding="utf-8") as handle:
            for line in replayed:
                handle.write(json.dumps(line, ensure_ascii=False) + "\n")
    if args.json:
        print(json.dumps(summary))
        return 0

    def fmt(value: Any) -> str:
        return "n/a" if value is None else f"{value:.4f}"

    print(f"replayed {summary['n']} completion(s) of {args.traces}")
    print(f"  mean reward  old ({summary.get('reward_name_old')}) {fmt(summary['mean_old'])}  "
          f"new ({summary.get('reward_name_new')}) {fmt(summary['mean_new'])}  "
          f"mean |change| {fmt(summary['mean_abs_change'])}")
    print(f"  group argmax changed in {summary['argmax_changed']} of {summary['groups']} group(s) "
          f"({fmt(summary['argmax_changed_frac'])})")
    return 0


def _list(args: argparse.Namespace) -> int:
    from prouie_lib.rewards.registry import describe_rewards

    for name, description in describe_rewards().items():
        print(f"{name:<14} {description}")
    return 0
