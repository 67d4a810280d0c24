"""``prouie eval compare``: two prediction files on the same gold, F1 of each, their difference and a paired p."""

from __future__ import annotations

import json

from prouie_lib import cli
from prouie_lib.schema import entity, make_record


def write_jsonl(path, rows):
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return path


def test_compare_prints_both_f1_the_difference_and_p(tmp_path, capsys):
    labels = {"entity_types": ["person"]}
    gold = [make_record(id=str(i), dataset="Toy", task="NER", split="dev", text=f"P{i} came.", labels=labels,
                        entities=[entity(f"P{i}", "person", 0, len(f"P{i}"))]) for i in range(30)]
    # A finds 10 of 30 people, B finds 25: B is better on the same records.
    a = [{"id": str(i), "completion": f"(person: P{i})" if i < 10 else "None", "format": "streamlined"}
         for i in range(30)]
    b = [{"id": str(i), "completion": f"(person: P{i})" if i < 25 else "None", "format": "streamlined"}
         for i in range(30)]
    paths = [write_jsonl(tmp_path / "gold.jsonl", gold), write_jsonl(tmp_path / "a.jsonl", a),
             write_jsonl(tmp_path / "b.jsonl", b)]
    assert cli.main(["eval", "compare", "--gold", str(paths[0]), "--pred", str(paths[1]), str(paths[2])]) == 0
    row = next(line for line in capsys.readouterr().out.splitlines() if line.startswith("Toy"))
    f1_a, f1_b, delta, p = (float(x) for x in row.split()[3:])
    assert (f1_a, f1_b, delta) == (50.0, 90.91, 40.91) and p < 0.01
    assert cli.main(["eval", "compare", "--gold", str(paths[0]), "--pred", str(paths[1]), str(paths[1])]) == 0
    row = next(line for line in capsys.readouterr().out.splitlines() if line.startswith("Toy"))
    assert row.split()[-2:] == ["+0.00", "1.000"]


def test_after_head_scores_only_the_records_a_keep_best_head_did_not_see(tmp_path, capsys):
    labels = {"entity_types": ["person"]}
    gold = [make_record(id=f"{d}-{i}", dataset=d, task="NER", split="dev", text=f"P{i} came.", labels=labels,
                        entities=[entity(f"P{i}", "person", 0, len(f"P{i}"))])
            for d in ("Toy", "Other") for i in range(20)]

    def answers(right) -> list[dict]:
        return [{"id": r["id"], "completion": f"(person: {r['text'].split()[0]})" if right(i % 20) else "None",
                 "format": "streamlined"} for i, r in enumerate(gold)]

    a, b = answers(lambda i: i < 5), answers(lambda i: i >= 5)  # A right on each dataset's first 5 only, B after
    paths = [write_jsonl(tmp_path / "gold.jsonl", gold), write_jsonl(tmp_path / "a.jsonl", a),
             write_jsonl(tmp_path / "b.jsonl", b)]
    assert cli.main(["eval", "compare", "--gold", str(paths[0]), "--pred", str(paths[1]), str(paths[2]),
                     "--after-head", "5"]) == 0
    rows = [line.split() for line in capsys.readouterr().out.splitlines() if line.startswith(("Toy", "Other"))]
    assert sorted((row[0], row[1], row[3], row[4]) for row in rows) == [("Other", "15", "0.00", "100.00"),
                                                                        ("Toy", "15", "0.00", "100.00")]
    assert cli.main(["eval", "score", "--gold", str(paths[0]), "--pred", str(paths[1]), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["datasets"]["Toy"]["n"] == 20  # without the option: every record
    # A prediction for an id the gold does not have is still an error, not set aside.
    write_jsonl(paths[1], a + [{"id": "stray", "completion": "None", "format": "streamlined"}])
    assert cli.main(["eval", "score", "--gold", str(paths[0]), "--pred", str(paths[1]), "--after-head", "5"]) == 2
    assert "stray" in capsys.readouterr().err
