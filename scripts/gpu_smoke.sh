#!/usr/bin/env bash
# GPU smoke check: the tiny pipeline on a CUDA GPU in bf16, then a table of stage times and throughput.
# Finishes in a few minutes; CI never needs it. Usage: bash scripts/gpu_smoke.sh [extra --set overrides]
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup_env.sh
PY=.venv/bin/python
$PY - <<'PY'
import torch
assert torch.cuda.is_available(), "no CUDA GPU visible"
print("GPU:", torch.cuda.get_device_name(0), "| torch", torch.__version__)
PY
$PY -m prouie_lib.cli pipeline --config configs/tiny.yaml --fresh \
  --set name=gpu-smoke --set model.backbone=smollm2-135m-offline \
  --set cm.trainer.bf16=true --set sa.trainer.bf16=true --set de.trainer.bf16=true \
  --set cm.trainer.max_steps=20 --set sa.trainer.max_steps=10 --set de.trainer.max_steps=4 \
  --set data.train_limit_per_dataset=64 --set eval.limit_per_dataset=20 "$@"
$PY - <<'PY'
import json, pathlib, torch
run = pathlib.Path("runs/gpu-smoke")
print(f"\n{'stage':6} {'total s':>8} {'train s':>8} {'steps':>6} {'s/step':>7} {'eval rec/s':>10}")
for stage in ["base", "cm", "sa", "de"]:
    t = json.loads((run / stage / "timing.json").read_text())
    s = json.loads((run / stage / "scores.json").read_text())
    n = sum(d["n"] for d in s["datasets"].values())
    steps = 0
    if (run / stage / "phases.json").exists():
        steps = sum(p["end_step"] - p["start_step"] for p in json.loads((run / stage / "phases.json").read_text())["phases"])
    train = t.get("train_seconds", 0.0)
    print(f"{stage:6} {t['total_seconds']:8.1f} {train:8.1f} {steps:6d} {train / steps if steps else 0:7.2f} "
          f"{n / s['predict_seconds']:10.1f}")
print("card:", torch.cuda.get_device_name(0))
PY
