"""``prouie reward {score,replay,list}``: score completions against gold, replay logged completions."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from prouie_lib.formats.examples import FORMAT_EXAMPLES
from prouie_lib.schema import STRUCTURE_FIELDS, RecordError


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
    score.set_defaults(func=_score)

    replay = actions.add_parser("replay", help="re-score logged completions (reward_traces.jsonl)")
    replay.add_argument("--traces", required=True, help="runs/<name>/de/reward_traces.jsonl")
    replay.add_argument("--reward", required=True, help="registered reward name to replay with")
    replay.add_argument("--output", default=None, help="write the re-scored lines here (JSONL)")
    _add_common(replay)
    replay.set_defaults(func=_replay)

    listing = actions.add_parser("list", help="list registered rewards")
    listing.set_defaults(func=_list)
    parser.set_defaults(func=lambda args: (parser.print_help(), 0)[1])


def _add_common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--option", action="append", default=[], metavar="KEY=VALUE",
                        help="reward option, e.g. format=0.2, entity_type=1.0, floor=-1 (repeatable)")
    parser.add_argument("--json", action="store_true", help="print JSON")


def _options(pairs: list[str]) -> dict[str, Any]:
    options: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise ValueError(f"--option expects KEY=VALUE, got {pair!r}")
        try:
            options[key] = json.loads(value)
        except json.JSONDecodeError:
            options[key] = value
    return options


def read_jsonl_lines(path: str | Path) -> list[dict[str, Any]]:
    """JSON objects from a JSONL file; errors name the file and the line."""
    from prouie_lib.data.io import iter_json_objects

    return [item for _, item in iter_json_objects(path)]


def _read_gold(path: str) -> list[dict[str, Any]]:
    from prouie_lib.data import read_jsonl

    return read_jsonl(path)


def score_file(gold_path: str, completions_path: str, reward_name: str, *, fmt: str | None = None,
               options: dict[str, Any] | None = None) -> dict[str, Any]:
    """``{"reward", "mean", "items": [{"id", "total", "components"}], "missing"}`` for a completions file."""
    from prouie_lib.rewards.registry import get_reward

    reward = get_reward(reward_name, **(options or {}))
    gold: dict[str, dict[str, Any]] = {}
    for index, record in enumerate(_read_gold(gold_path), start=1):
        key = record.get("id")
        if key is None:
            raise RecordError("missing", file=gold_path, record=f"line {index}", field="id")
        if key in gold:
            raise RecordError("duplicate id", file=gold_path, record=key, field="id")
        gold[key] = record
    items, seen = [], set()
    for number, line in enumerate(read_jsonl_lines(completions_path), start=1):
        where = {"file": completions_path, "record": line.get("id", f"line {number}")}
        if "id" not in line:
            raise RecordError("missing", field="id", **where)
        if line["id"] not in gold:
            raise RecordError(f"no gold record with this id in {gold_path}", field="id", **where)
        record = gold[line["id"]]
        seen.add(line["id"])
        if "completion" in line:
            text = line["completion"]
            if not isinstance(text, str):
                raise RecordError("expected a string", field="completion", **where)
            line_fmt = line.get("format") or fmt
            if not line_fmt:
                raise RecordError("missing (or pass --format)", field="format", **where)
            result = reward.score(text, record, line_fmt)
        elif any(key in line for key in STRUCTURE_FIELDS):
            structure = {key: line.get(key) or [] for key in STRUCTURE_FIELDS}
            for key, value in structure.items():
                if not isinstance(value, list):
                    raise RecordError(f"expected a list, got {type(value).__name__}", field=key, **where)
            try:
                result = reward.score_structure(structure, record, fmt=line.get("format") or fmt)
            except RecordError as err:
                raise RecordError(err.reason, field=err.field, **where) from err
        else:
            raise RecordError("needs 'completion' or structure fields (entities/relations/events)",
                              field="completion", **where)
        items.append({"id": line["id"], "total": result.total, "components": dict(result.components)})
    mean = sum(i["total"] for i in items) / len(items) if items else None
    return {"reward": reward.name, "mean": mean, "items": items, "missing": len(set(gold) - seen)}


def _score(args: argparse.Namespace) -> int:
    report = score_file(args.gold, args.completions, args.reward, fmt=args.fmt, options=_options(args.option))
    if report["missing"]:
        print(f"prouie reward score: {report['missing']} gold record(s) in {args.gold} have no completion "
              "(not scored)", file=sys.stderr)
    if args.json:
        print(json.dumps({k: report[k] for k in ("reward", "mean", "items")}, ensure_ascii=False))
        return 0
    items = report["items"]
    print(f"reward {report['reward']}: {len(items)} item(s), mean "
          f"{'n/a' if report['mean'] is None else format(report['mean'], '.4f')}")
    keys: list[str] = []
    for item in items:
        keys.extend(k for k in item["components"] if k not in keys)
    print(f"  {'component':<26} {'mean':>8}  over")
    for key in keys:  # a component exists only for the items whose task has it (e.g. f1_pair: RE items)
        values = [i["components"][key] for i in items if key in i["components"]]
        print(f"  {key:<26} {sum(values) / len(values):8.4f}  {len(values)} of {len(items)} items")
    return 0


def _replay(args: argparse.Namespace) -> int:
    from prouie_lib.rewards.replay import replay_traces, summarize_replay

    replayed = replay_traces(args.traces, args.reward, **_options(args.option))
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
