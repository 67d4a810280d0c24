"""verl export: parquet rows carry prompt + gold; compute_score equals the kit's own reward."""

from __future__ import annotations

import pyarrow.parquet as pq

from prouie_lib.export.verl import compute_score, export_verl
from prouie_lib.formats import get_format
from prouie_lib.formats.prompts import build_messages
from prouie_lib.rewards import get_reward
from prouie_lib.schema import entity, make_record


def _record():
    ents = [entity("Ada Lovelace", "person", 0, 12), entity("London", "location", 22, 28)]
    return make_record(id="X/test/0", dataset="X", task="NER", split="test", text="Ada Lovelace lived in London.",
                       labels={"entity_types": ["person", "location"]}, entities=ents)


def test_export_and_compute_score(tmp_path):
    record = _record()
    path = export_verl([record], tmp_path / "de.parquet", lambda r: build_messages(r, fmt="streamlined"))
    rows = pq.read_table(path).to_pylist()
    assert len(rows) == 1 and rows[0]["prompt"][-1]["role"] == "user"
    row = rows[0]
    perfect = get_format("streamlined").render(record)
    score = compute_score(row["data_source"], perfect, row["reward_model"]["ground_truth"], row["extra_info"])
    assert score == get_reward("sfr")(perfect, record, "streamlined").total == 1.0
    half = compute_score(row["data_source"], "(person: Ada Lovelace)", row["reward_model"]["ground_truth"],
                         row["extra_info"])
    assert 0.0 < half < score
    garbage = compute_score(row["data_source"], "))((", row["reward_model"]["ground_truth"], row["extra_info"])
    assert garbage < half
