#!/usr/bin/env bash
# The one prepared GPU run (for a session lent a device machine; it needs only torch, which the
# device image has): the GPU check, then the Langevin benchmark with and without torch.compile.
# About 6-8 minutes on one H200. Output goes to $OUT (the device tool) or ./device_out.
#   device run:  bash bench/device_check.sh      (timeout_s 540 leaves time for one rerun)
set -uo pipefail
cd "$(dirname "$0")/.."
out=${OUT:-device_out}; mkdir -p "$out"
py=${PYTHON:-python3}
export PYTHONPATH=$PWD PYTHONUNBUFFERED=1
"$py" -c "import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)" \
  || { echo "device_check: no CUDA device visible to $py" >&2; exit 1; }
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv | tee "$out/gpu.txt"
"$py" -c "import torch; print('torch', torch.__version__, 'cuda', torch.version.cuda)" | tee -a "$out/gpu.txt"
rc=0
timeout 300 "$py" -m bench.gpu_check 2>&1 | tee "$out/gpu_check.txt" || rc=1
timeout 120 "$py" -m bench.langevin --batch 128 --steps 20 2>&1 | tee "$out/langevin.txt" || rc=1
timeout 150 "$py" -m bench.langevin --batch 128 --steps 20 --compile 2>&1 | tee "$out/langevin_compile.txt" || rc=1
exit $rc
