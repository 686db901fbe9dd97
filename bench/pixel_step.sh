#!/usr/bin/env bash
# Seconds per training step of the pixel models (PixelCNN, Gated PixelCNN,
# Row LSTM), elbo against PyTorch (bench/torch_pixelcnn.py, the same
# networks), interleaved in one run, at 1 and 2 threads, for two network
# sizes. With BASELINE_BIN (an elbo binary built before a change) it is timed
# in the same rotation, for a before/after.
#
#   bench/pixel_step.sh [DATA_DIR]
#
# DATA_DIR holds binarized_mnist_train.amat.gz (default ../shared/data/binarized_mnist).
# Environment: REPS [3] rounds; ELBO_BIN [target/release/elbo]; BASELINE_BIN [none];
# PY [bench/.venv/bin/python]; OUT [/tmp/elbo_pixel_step]; STEPS [40] steps of batch 32;
# MODELS [pixelcnn gated rowlstm]; THREADS [1 2]; SIZES_ONLY [all, or small or medium];
# CLOCK [wall, wall-diff or cpu]. With CLOCK=wall-diff elbo's wall-clock s/step
# leaves out its warm-up like PyTorch's: the difference of the training-epoch
# seconds of a 3·STEPS and a STEPS run over the difference of their steps.
# With CLOCK=cpu every figure is CPU seconds (user + system)
# per step instead, steadier when other jobs load the machine: PyTorch's from
# its process time over the steps, elbo's as the difference between a run of
# 3·STEPS and one of STEPS steps (no held-out split), so start-up cancels.
# elbo's s/step is its training-epoch seconds (metrics.jsonl) over the steps of
# a one-epoch run on STEPS·32 images; PyTorch's is the mean over STEPS steps
# after 3 warm-up steps. Prints one line per measurement, then medians and ratios.
set -euo pipefail
REPO_ROOT=$(cd "$(dirname "$0")/.." && pwd)
DATA=${1:-$REPO_ROOT/../shared/data/binarized_mnist}
REPS=${REPS:-3}
STEPS=${STEPS:-40}
ELBO_BIN=${ELBO_BIN:-$REPO_ROOT/target/release/elbo}
BASELINE_BIN=${BASELINE_BIN:-}
PY=${PY:-$REPO_ROOT/bench/.venv/bin/python}
OUT=${OUT:-/tmp/elbo_pixel_step}
read -r -a MODELS <<<"${MODELS:-pixelcnn gated rowlstm}"
read -r -a THREADS <<<"${THREADS:-1 2}"
SIZES_ONLY=${SIZES_ONLY:-all}
CLOCK=${CLOCK:-wall}
case "$CLOCK" in wall|wall-diff|cpu) ;; *) echo "pixel_step.sh: CLOCK must be wall, wall-diff or cpu" >&2; exit 1 ;; esac
[ -f "$DATA/binarized_mnist_train.amat.gz" ] || { echo "pixel_step.sh: no $DATA/binarized_mnist_train.amat.gz" >&2; exit 1; }
[ -x "$ELBO_BIN" ] || { echo "pixel_step.sh: no elbo binary at $ELBO_BIN (cargo build --release -p elbo-cli)" >&2; exit 1; }
mkdir -p "$OUT"
N=$((STEPS * 32))
"$PY" - "$DATA" "$OUT/sub.npy" "$N" <<'PYEOF'
import gzip, sys, numpy as np
n, rows = int(sys.argv[3]), []
with gzip.open(sys.argv[1] + "/binarized_mnist_train.amat.gz", "rt") as f:
    for line in f:
        if len(rows) >= n:
            break
        rows.append([int(v) for v in line.split()])
np.save(sys.argv[2], (np.array(rows, dtype=np.uint8) * 255).reshape(-1, 28, 28))
PYEOF
if [ "$CLOCK" != wall ]; then
  "$PY" -c "import numpy as np, sys; a = np.load(sys.argv[1]); np.save(sys.argv[2], np.concatenate([a, a, a]))" \
    "$OUT/sub.npy" "$OUT/sub3.npy"
fi
# name|elbo flags|torch flags
SIZES=("small h16 4 blocks|--hidden 16 --layers 4 --output-hidden 32|--hidden 16 --layers 4 --output-hidden 32"
       "medium h32 8 blocks|--hidden 32 --layers 8 --output-hidden 64|--hidden 32 --layers 8 --output-hidden 64")
LOG="$OUT/steps.csv"
echo "size,threads,impl,s_per_step" >"$LOG"
elbo_family() { # model name → elbo train subcommand
  case "$1" in
    pixelcnn) echo pixelcnn ;;
    gated) echo gated-pixelcnn ;;
    rowlstm) echo pixelrnn ;;
    *) echo "pixel_step.sh: unknown model '$1' in MODELS" >&2; exit 1 ;;
  esac
}
elbo_cpu() { # data bin family threads flags... → CPU seconds of the whole run
  local data=$1 bin=$2 family=$3 threads=$4; shift 4
  /usr/bin/time -f "%U %S" -o "$OUT/cpu.txt" "$bin" train "$family" --data "npy:$data" --epochs 1 "$@" \
    --batch-size 32 --test-fraction 0 --threads "$threads" --quiet --no-pictures --force --out "$OUT/run" >/dev/null
  awk '{ print $1 + $2 }' "$OUT/cpu.txt"
}
elbo_epoch() { # data bin family threads flags... → the training epoch's wall seconds
  local data=$1 bin=$2 family=$3 threads=$4; shift 4
  # --batch-size 32 and no held-out split of its own beyond elbo's default 10 %.
  "$bin" train "$family" --data "npy:$data" --epochs 1 "$@" --batch-size 32 \
    --threads "$threads" --quiet --no-pictures --force --out "$OUT/run" >/dev/null
  "$PY" -c "import json,sys; print(json.loads(open(sys.argv[1]).readline())['epoch_seconds'])" "$OUT/run/metrics.jsonl"
}
elbo_step() { # bin model threads flags...
  if [ "$CLOCK" = cpu ]; then
    local bin=$1 family; family=$(elbo_family "$2"); local threads=$3; shift 3
    local short long
    short=$(elbo_cpu "$OUT/sub.npy" "$bin" "$family" "$threads" "$@")
    long=$(elbo_cpu "$OUT/sub3.npy" "$bin" "$family" "$threads" "$@")
    "$PY" -c "import sys; print((float(sys.argv[2]) - float(sys.argv[1])) / (2 * int(sys.argv[3])))" "$short" "$long" "$STEPS"
    return
  fi
  local bin=$1 family; family=$(elbo_family "$2"); local threads=$3; shift 3
  if [ "$CLOCK" = wall-diff ]; then
    local short long
    short=$(elbo_epoch "$OUT/sub.npy" "$bin" "$family" "$threads" "$@")
    long=$(elbo_epoch "$OUT/sub3.npy" "$bin" "$family" "$threads" "$@")
    "$PY" -c "import math,sys; n=int(sys.argv[3]); s=lambda k: math.ceil(k*n*0.9/32); print((float(sys.argv[2])-float(sys.argv[1]))/(s(3)-s(1)))" \
      "$short" "$long" "$N"
    return
  fi
  "$PY" -c "import math,sys; print(float(sys.argv[1])/math.ceil(int(sys.argv[2])*0.9/32))" \
    "$(elbo_epoch "$OUT/sub.npy" "$bin" "$family" "$threads" "$@")" "$N"
}
echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
for rep in $(seq "$REPS"); do
  for threads in "${THREADS[@]}"; do
    for size in "${SIZES[@]}"; do
      IFS='|' read -r name eflags tflags <<<"$size"
      [ "$SIZES_ONLY" = all ] || [[ "$name" == "$SIZES_ONLY"* ]] || continue
      for model in "${MODELS[@]}"; do
        label="$model $name"
        # shellcheck disable=SC2086
        echo "$label,$threads,elbo,$(elbo_step "$ELBO_BIN" "$model" "$threads" $eflags)" | tee -a "$LOG"
        if [ -n "$BASELINE_BIN" ]; then
          # shellcheck disable=SC2086
          echo "$label,$threads,baseline,$(elbo_step "$BASELINE_BIN" "$model" "$threads" $eflags)" | tee -a "$LOG"
        fi
        # shellcheck disable=SC2086
        t=$(OMP_WAIT_POLICY=PASSIVE "$PY" "$REPO_ROOT/bench/torch_pixelcnn.py" --model "$model" $tflags --batch 32 \
          --steps "$STEPS" --threads "$threads" --clock "${CLOCK%-diff}" | sed -E 's/.*: ([0-9.]+) s\/step.*/\1/')
        echo "$label,$threads,torch,$t" | tee -a "$LOG"
      done
    done
  done
done
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
"$PY" - "$LOG" <<'PYEOF'
import csv, statistics, sys
rows = list(csv.DictReader(open(sys.argv[1])))
med = {}
for r in rows:
    med.setdefault((r["size"], r["threads"], r["impl"]), []).append(float(r["s_per_step"]))
print("| network | threads | elbo s/step | baseline s/step | PyTorch s/step | elbo / PyTorch |")
print("|---|---|---|---|---|---|")
for size, threads in sorted({(s, t) for s, t, _ in med}):
    m = {i: statistics.median(v) for (s, t, i), v in med.items() if (s, t) == (size, threads)}
    base = f"{m['baseline']:.4f}" if "baseline" in m else "-"
    print(f"| {size} | {threads} | {m['elbo']:.4f} | {base} | {m['torch']:.4f} | {m['elbo'] / m['torch']:.2f}x |")
PYEOF
