#!/usr/bin/env bash
# The GPU check, from a fresh copy of the repository on a machine with CUDA (under 5 minutes on one GPU):
# installs the runtime requirements and the test tools, runs the CUDA tests (every engine path on CUDA equals the
# CPU result; a short training lands in the CPU's accuracy band), then prints training samples/s GPU vs CPU for
# TinyVGG and the speed-run preset and the engine-vs-bare-loop ratio on the GPU, and (with CUDA) a class of 30 training together. Also runs without a GPU: the
# CUDA tests are then skipped and only the CPU figures print.  QUICK=1 shortens the throughput part.
set -euo pipefail
cd "$(dirname "$0")/.."
pip install -q -r requirements.txt pytest==9.0.3 hypothesis==6.155.2 pytest-timeout==2.4.0
python - <<'PY'
import torch
print("torch", torch.__version__, "| CUDA:", torch.cuda.is_available(),
      torch.cuda.get_device_name() if torch.cuda.is_available() else "")
PY
python -m pytest -q -p no:cacheprovider -m cuda tests/unit/house/test_cuda.py
if [ "${QUICK:-0}" = 1 ]; then
  python -m bench.gpu_throughput --epochs 1 --n 600 --reps 1
else
  python -m bench.gpu_throughput
fi
# issue 30: a class of 30 trains together on the device (goal on a GPU: class_over_solo <= 2)
if python -c "import sys, torch; sys.exit(0 if torch.cuda.is_available() else 1)"; then
  if [ "${QUICK:-0}" = 1 ]; then
    python -m bench.class_training --students 30 --data shapes --model SmallResNet --epochs 1 --n 600 --alone 1
  else
    python -m bench.class_training --students 30 --data shapes --model SmallResNet --epochs 4
  fi
fi
