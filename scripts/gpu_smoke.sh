#!/usr/bin/env bash
# GPU smoke check: the tiny pipeline on CUDA GPUs in bf16, then a table of stage times and throughput.
# Finishes in a few minutes; CI never needs it.
#   bash scripts/gpu_smoke.sh [extra --set overrides]          one process, one GPU
#   bash scripts/gpu_smoke.sh --multi [extra --set overrides]  every visible GPU: DDP (accelerate multi_gpu), then
#                                                              DeepSpeed ZeRO-3, each a fresh run with its own name
set -euo pipefail
cd "$(dirname "$0")/.."
MODE=single
if [[ "${1:-}" == "--multi" ]]; then MODE=multi; shift; fi
bash scripts/setup_env.sh
PY=.venv/bin/python
NGPU=$($PY - <<'PY'
import torch
assert torch.cuda.is_available(), "no CUDA GPU visible"
print(torch.cuda.device_count())
PY
)
$PY -c "import torch; print('GPU:', torch.cuda.get_device_name(0), 'x', torch.cuda.device_count(), '| torch', torch.__version__)"
SMOKE=(--config configs/tiny.yaml --fresh --set model.backbone=smollm2-135m-offline
  --set cm.trainer.bf16=true --set sa.trainer.bf16=true --set de.trainer.bf16=true
  --set cm.trainer.max_steps=20 --set sa.trainer.max_steps=10 --set de.trainer.max_steps=4
  --set data.train_limit_per_dataset=64 --set eval.limit_per_dataset=20)

table() {  # stage times, steps, world size and evaluation throughput of runs/$1
$PY - "$1" <<'PY'
import json, pathlib, sys, torch
run = pathlib.Path("runs") / sys.argv[1]
print(f"\n{run}\n{'stage':6} {'world':>5} {'total s':>8} {'train s':>8} {'steps':>6} {'s/step':>7} {'eval rec/s':>10}")
for stage in ["base", "cm", "sa", "de", "sft"]:
    if not (run / stage / "timing.json").exists():
        continue
    t = json.loads((run / stage / "timing.json").read_text())
    s = json.loads((run / stage / "scores.json").read_text())
    n = sum(d["n"] for d in s["datasets"].values())
    steps = 0
    if (run / stage / "phases.json").exists():
        steps = sum(p["end_step"] - p["start_step"] for p in json.loads((run / stage / "phases.json").read_text())["phases"])
    train = t.get("train_seconds", 0.0)
    print(f"{stage:6} {t.get('world_size', 1):5d} {t['total_seconds']:8.1f} {train:8.1f} {steps:6d} "
          f"{train / steps if steps else 0:7.2f} {n / s['predict_seconds']:10.1f}")
print("card:", torch.cuda.get_device_name(0))
PY
}

if [[ "$MODE" == single ]]; then
  $PY -m prouie_lib.cli pipeline "${SMOKE[@]}" --set name=gpu-smoke "$@"
  table gpu-smoke
  exit 0
fi
if (( NGPU < 2 )); then echo "gpu_smoke --multi: $NGPU GPU visible, needs 2 or more" >&2; exit 2; fi
for engine in multi_gpu deepspeed_zero3; do
  echo "== $engine on $NGPU GPUs =="
  .venv/bin/accelerate launch --config_file "configs/accelerate/$engine.yaml" --num_processes "$NGPU" \
    -m prouie_lib.cli pipeline "${SMOKE[@]}" --set "name=gpu-smoke-$engine" "$@"
  table "gpu-smoke-$engine"
done
