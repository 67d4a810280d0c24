"""Reward scoring throughput (completions/s, one core) on real dataset golds with perturbed predictions.

Usage::

    python benchmarks/reward_throughput.py [--per-dataset 300] [--variants 8] [--repeats 5]

For each dataset (CoNLL2003 NER, CoNLL04 RE, PHEE EE; test splits) every gold record gets
``--variants`` predictions (a GRPO group): the gold itself, dropped units, added wrong spans, wrong
types/roles, shifted span boundaries, duplicates, an empty prediction. Timed levels:

* ``structure``: ``reward.score_parsed`` on already-parsed predictions (gold decomposed once per
  record and reused across its group, as the trl adapter does for a group);
* ``structure_cold``: the same with the gold cache emptied before each call;
* ``completion/<format>``: parse the rendered (and, for 1 in 8, truncated) text, then score.

Writes ``benchmarks/results/reward_throughput.json`` with the machine and the date.
"""

from __future__ import annotations

import argparse
import copy
import datetime as dt
import json
import os
import platform
import random
import statistics
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from prouie_lib.formats import get_format  # noqa: E402
from prouie_lib.formats.base import ParseResult  # noqa: E402
from prouie_lib.rewards import get_reward  # noqa: E402
from prouie_lib.rewards import steps as reward_steps  # noqa: E402
from prouie_lib.schema import TASK_FIELD  # noqa: E402

DATASETS = ("CoNLL2003", "CoNLL04", "PHEE")


def load_golds(name: str, limit: int) -> list[dict[str, Any]]:
    """Test records of a registered dataset through the data layer (``prouie_lib.data.load_examples``)."""
    from prouie_lib.data import load_examples

    records = list(load_examples(name, split="test"))
    return records[:limit]


# ---------------------------------------------------------------- perturbations

def _words(text: str) -> list[str]:
    return text.split()


def _random_span(rng: random.Random, text: str) -> str:
    words = _words(text) or ["x"]
    start = rng.randrange(len(words))
    return " ".join(words[start:start + rng.randint(1, 3)])


def _shift(rng: random.Random, span: str, text: str) -> str:
    """The span with one more (or one fewer) word, when the text allows."""
    words = span.split()
    if len(words) > 1 and rng.random() < 0.5:
        return " ".join(words[:-1])
    at = text.find(span)
    rest = text[at + len(span):].split() if at >= 0 else []
    return f"{span} {rest[0]}" if rest else span


def perturb(gold: dict[str, Any], rng: random.Random) -> dict[str, list[dict[str, Any]]]:
    """One prediction for the gold's task: a random mix of unit edits."""
    task, text, labels = gold["task"], gold["text"], gold.get("labels") or {}
    units = copy.deepcopy(gold[TASK_FIELD[task]])
    ent_types = labels.get("entity_types") or ["misc"]
    rel_types = labels.get("relation_types") or ["rel"]
    ev_types = labels.get("event_types") or {"Event": ["Role"]}
    kind = rng.choice(["perfect", "drop", "add", "retype", "shift", "dup", "empty", "mix"])
    if kind == "perfect":
        pass
    elif kind == "empty":
        units = []
    elif kind == "drop" and units:
        units.pop(rng.randrange(len(units)))
    elif kind == "dup" and units:
        units.append(copy.deepcopy(rng.choice(units)))
    if kind in ("add", "mix"):
        if task == "NER":
            units.append({"text": _random_span(rng, text), "type": rng.choice(ent_types),
                          "start": None, "end": None})
        elif task == "RE":
            units.append({"head": {"text": _random_span(rng, text), "type": rng.choice(ent_types)},
                          "type": rng.choice(rel_types),
                          "tail": {"text": _random_span(rng, text), "type": rng.choice(ent_types)}})
        else:
            etype = rng.choice(sorted(ev_types))
            roles = ev_types[etype] or ["Role"]
            units.append({"type": etype, "trigger": {"text": _random_span(rng, text)},
                          "arguments": [{"role": rng.choice(roles), "text": _random_span(rng, text)}]})
    if kind in ("retype", "mix") and units:
        unit = rng.choice(units)
        if task == "NER":
            unit["type"] = rng.choice(ent_types)
        elif task == "RE":
            unit["type"] = rng.choice(rel_types)
        elif unit["arguments"]:
            arg = rng.choice(unit["arguments"])
            arg["role"] = rng.choice(ev_types.get(unit["type"]) or ["Role"])
        else:
            unit["type"] = rng.choice(sorted(ev_types))
    if kind in ("shift", "mix") and units:
        unit = rng.choice(units)
        if task == "NER":
            unit["text"] = _shift(rng, unit["text"], text)
        elif task == "RE":
            unit["tail"]["text"] = _shift(rng, unit["tail"]["text"], text)
        else:
            unit["trigger"]["text"] = _shift(rng, unit["trigger"]["text"], text)
    return {"entities": [], "relations": [], "events": [], TASK_FIELD[task]: units}


def truncate(rng: random.Random, text: str) -> str:
    return text[: rng.randrange(len(text))] if text else text


# ---------------------------------------------------------------- timing

def _time(fn, items: list, repeats: int) -> dict[str, float]:
    rates = []
    for _ in range(repeats):
        start = time.perf_counter()
        for item in items:
            fn(item)
        rates.append(len(items) / (time.perf_counter() - start))
    return {"completions_per_s_median": round(statistics.median(rates)),
            "completions_per_s_best": round(max(rates)), "n": len(items), "repeats": repeats}


def bench_dataset(name: str, per_dataset: int, variants: int, repeats: int,
                  reward_name: str) -> dict[str, Any]:
    golds = [g for g in load_golds(name, per_dataset)]
    rng = random.Random(13)
    reward = get_reward(reward_name)
    parsed_items, texts = [], {"complete": [], "streamlined": []}
    for gold in golds:
        for _ in range(variants):
            structure = perturb(gold, rng)
            parsed_items.append((ParseResult(structure=structure, well_formed=True), gold))
            for fmt, items in texts.items():
                text = get_format(fmt).render({**gold, **structure})
                if rng.random() < 1 / 8:
                    text = truncate(rng, text)
                items.append((text, gold))
    units = sum(len(g[TASK_FIELD[g["task"]]]) for g in golds)

    def structure_level(item):
        return reward.score_parsed(*item)

    def structure_cold(item):
        reward_steps._GOLD_CACHE.clear()
        return reward.score_parsed(*item)

    result: dict[str, Any] = {"task": golds[0]["task"] if golds else None, "golds": len(golds),
                              "gold_units_per_record": round(units / max(1, len(golds)), 2),
                              "completions": len(parsed_items)}
    result["mean_reward"] = round(statistics.fmean(reward.score_parsed(*i).total for i in parsed_items), 4)
    result["structure"] = _time(structure_level, parsed_items, repeats)
    result["structure_cold"] = _time(structure_cold, parsed_items, repeats)
    for fmt, items in texts.items():
        def completion_level(item, fmt=fmt):
            return reward.score(item[0], item[1], fmt)

        def parse_only(item, fmt=fmt):
            return get_format(fmt).parse(item[0], item[1]["labels"], item[1]["task"])

        result[f"completion/{fmt}"] = _time(completion_level, items, repeats)
        result[f"parse_only/{fmt}"] = _time(parse_only, items, repeats)
        # time per completion spent outside the format's parser (median rates)
        full = result[f"completion/{fmt}"]["completions_per_s_median"]
        parse = result[f"parse_only/{fmt}"]["completions_per_s_median"]
        result[f"us_per_completion/{fmt}"] = {"total": round(1e6 / full, 2), "parse": round(1e6 / parse, 2),
                                              "reward": round(1e6 / full - 1e6 / parse, 2)}
    return result


def machine() -> dict[str, Any]:
    cpu = platform.processor()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"cpu": cpu, "cores_visible": os.cpu_count(), "python": platform.python_version(),
            "platform": platform.platform(), "single_process": True,
            "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
            "note": "shared machine: rates vary by up to ~40% between runs; medians of the repeats"}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--per-dataset", type=int, default=300, help="gold records per dataset")
    parser.add_argument("--variants", type=int, default=8, help="perturbed predictions per gold (group size)")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--reward", default="sfr")
    parser.add_argument("--datasets", nargs="*", default=list(DATASETS))
    parser.add_argument("--output", default=str(REPO / "benchmarks" / "results" / "reward_throughput.json"))
    args = parser.parse_args(argv)
    report: dict[str, Any] = {
        "benchmark": "reward_throughput", "reward": args.reward,
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"), "machine": machine(),
        "command": "python benchmarks/reward_throughput.py "
                   + " ".join(argv if argv is not None else sys.argv[1:]),
        "goal_completions_per_s": 20000, "datasets": {},
    }
    for name in args.datasets:
        report["datasets"][name] = bench_dataset(name, args.per_dataset, args.variants, args.repeats,
                                                 args.reward)
        print(name, json.dumps(report["datasets"][name]), flush=True)
    Path(args.output).parent.mkdir(parents=True, exist_ok=True)
    Path(args.output).write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
