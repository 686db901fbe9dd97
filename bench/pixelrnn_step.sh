#!/usr/bin/env bash
# Training throughput (images/s) of the Diagonal BiLSTM against the Row LSTM
# and the PixelCNN of the same width, interleaved in one run, on statically
# binarized MNIST (28x28). Each measurement is a one-epoch elbo run on the
# first STEPS·32 training images (batch 32); its images/s is the
# `images_per_second` that run wrote to metrics.jsonl (training steps only,
# not the validation pass). With PY (a Python with torch), PyTorch's step
# on the same networks (bench/torch_pixelrnn.py) is timed in the same
# rotation; with BASE_BIN (another elbo binary, e.g. one built before a
# change), that binary's step too, as impl "base".
#
#   bench/pixelrnn_step.sh [DATA_DIR]
#
# DATA_DIR holds binarized_mnist_train.amat.gz (default ../shared/data/binarized_mnist).
# Environment: REPS [3] rounds; STEPS [20]; THREADS [1];
# SIZE [--hidden 16 --layers 2 --output-hidden 32]; ELBO_BIN [target/release/elbo];
# ELBO_BUILD [auto]; PY [none: no PyTorch column]; BASE_BIN [none];
# ONLY [all: or one model name, e.g. diagonal-bilstm]; OUT [/tmp/elbo_pixelrnn_step].
# Prints one line per measurement, then medians and ratios to the Diagonal BiLSTM.
set -euo pipefail
REPO_ROOT=$(cd "$(dirname "$0")/.." && pwd)
DATA=${1:-$REPO_ROOT/../shared/data/binarized_mnist}
REPS=${REPS:-3}
STEPS=${STEPS:-20}
THREADS=${THREADS:-1}
read -r -a SIZE <<<"${SIZE:---hidden 16 --layers 2 --output-hidden 32}"
ELBO_BIN=${ELBO_BIN:-$REPO_ROOT/target/release/elbo}
ELBO_BUILD=${ELBO_BUILD:-auto}
PY=${PY:-}
BASE_BIN=${BASE_BIN:-}
ONLY=${ONLY:-}
OUT=${OUT:-/tmp/elbo_pixelrnn_step}
SCRIPT=pixelrnn_step.sh
die() { echo "$SCRIPT: $*" >&2; exit 1; }
# shellcheck source=bench/lib.sh
. "$REPO_ROOT/bench/lib.sh"
[ -f "$DATA/binarized_mnist_train.amat.gz" ] || die "no $DATA/binarized_mnist_train.amat.gz"
[ -z "$BASE_BIN" ] || [ -x "$BASE_BIN" ] || die "BASE_BIN: no executable at $BASE_BIN"
ensure_elbo
mkdir -p "$OUT"
# Validation's 10 % comes out of these: STEPS·32 training images remain.
N=$((STEPS * 32 * 10 / 9 + 1))
# (zcat dies of SIGPIPE once head has its lines; that is not a failure.)
{ zcat "$DATA/binarized_mnist_train.amat.gz" || true; } | head -n "$N" | gzip >"$OUT/sub.amat.gz"
# name|family and flags
MODELS=("pixelcnn|pixelcnn"
        "row-lstm|pixelrnn --layer row-lstm"
        "diagonal-bilstm|pixelrnn --layer diagonal-bilstm")
if [ -n "$ONLY" ] && ! printf '%s\n' "${MODELS[@]}" | grep -q "^$ONLY|"; then
  die "ONLY=$ONLY is none of: pixelcnn row-lstm diagonal-bilstm"
fi
LOG="$OUT/steps.csv"
echo "model,impl,images_per_second" >"$LOG"
elbo_rate() { # binary family flags...
  local bin=$1
  shift
  "$bin" train "$@" --data "amat:$OUT/sub.amat.gz" "${SIZE[@]}" --epochs 1 --batch-size 32 \
    --threads "$THREADS" --quiet --no-pictures --force --out "$OUT/run" >/dev/null
  python3 -c "import json,sys; print(json.loads(open(sys.argv[1]).readline())['images_per_second'])" \
    "$OUT/run/metrics.jsonl"
}
torch_rate() { # layer
  "$PY" "$REPO_ROOT/bench/torch_pixelrnn.py" --layer "$1" "${SIZE[@]}" --batch 32 --steps 5 \
    --threads "$THREADS" | sed -E 's/.*: ([0-9.]+) s\/step.*/\1/' | python3 -c "import sys; print(32 / float(sys.stdin.read()))"
}
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
for rep in $(seq "$REPS"); do
  for m in "${MODELS[@]}"; do
    IFS='|' read -r name flags <<<"$m"
    if [ -n "$ONLY" ] && [ "$name" != "$ONLY" ]; then continue; fi
    # shellcheck disable=SC2086
    echo "$name,elbo,$(elbo_rate "$ELBO_BIN" $flags)" | tee -a "$LOG"
    if [ -n "$BASE_BIN" ]; then
      # shellcheck disable=SC2086
      echo "$name,base,$(elbo_rate "$BASE_BIN" $flags)" | tee -a "$LOG"
    fi
    if [ -n "$PY" ] && [ "$name" != pixelcnn ]; then
      echo "$name,torch,$(torch_rate "$name")" | tee -a "$LOG"
    fi
  done
done
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
python3 - "$LOG" <<'PYEOF'
import csv, statistics, sys
med = {}
for r in csv.DictReader(open(sys.argv[1])):
    med.setdefault((r["model"], r["impl"]), []).append(float(r["images_per_second"]))
med = {k: statistics.median(v) for k, v in med.items()}
ref = ("diagonal-bilstm", "elbo") if ("diagonal-bilstm", "elbo") in med else min(med)
diag = med[ref]
print(f"| model | impl | images/s (median) | time per image / {ref[0]} ({ref[1]})'s |")
print("|---|---|---|---|")
for (model, impl), v in sorted(med.items()):
    print(f"| {model} | {impl} | {v:.1f} | {diag / v:.2f} |")
PYEOF
