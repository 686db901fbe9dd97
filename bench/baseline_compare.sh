#!/usr/bin/env bash
# Two elbo binaries (a baseline and a candidate) on the same work, interleaved,
# RUNS times each: seconds of one VAE training epoch on MNIST (pytorch/examples'
# recipe, from metrics.jsonl's epoch_seconds) and IWAE evaluation throughput
# (elbo eval --iwae K on the MNIST test set, samples/s from wall time).
# Prints each run and the medians with the ratio candidate/baseline.
#
#   bench/baseline_compare.sh OLD_ELBO NEW_ELBO
#   RUNS=3 THREADS=2 K=500 MNIST=../shared/data/mnist
set -euo pipefail
OLD=${1:?baseline elbo binary}
NEW=${2:?candidate elbo binary}
RUNS=${RUNS:-3}
THREADS=${THREADS:-2}
K=${K:-500}
MNIST=${MNIST:-$(cd "$(dirname "$0")/.." && pwd)/../shared/data/mnist}
OUT=${OUT:-$(mktemp -d)}
mkdir -p "$OUT"
results="$OUT/results.csv"
echo "binary,run,epoch_seconds,iwae_seconds" > "$results"
for run in $(seq 1 "$RUNS"); do
  for which in old new; do
    bin=$OLD; [ "$which" = new ] && bin=$NEW
    dir="$OUT/$which-$run"
    rm -rf "$dir"
    "$bin" train vae --data "mnist:$MNIST" --epochs 1 --threads "$THREADS" --quiet --no-pictures --out "$dir" >/dev/null
    epoch=$(python3 -c "import json,sys; print(json.loads(open(sys.argv[1]).readline())['epoch_seconds'])" "$dir/metrics.jsonl")
    start=$(date +%s.%N)
    "$bin" eval --model "$dir" --iwae "$K" --threads "$THREADS" >/dev/null
    iwae=$(python3 -c "import sys; print(float(sys.argv[2]) - float(sys.argv[1]))" "$start" "$(date +%s.%N)")
    echo "$which,$run,$epoch,$iwae" | tee -a "$results"
  done
done
python3 - "$results" "$K" <<'PY'
import csv, statistics, sys
rows = list(csv.DictReader(open(sys.argv[1])))
k = int(sys.argv[2])
med = {}
for b in ("old", "new"):
    e = statistics.median(float(r["epoch_seconds"]) for r in rows if r["binary"] == b)
    i = statistics.median(float(r["iwae_seconds"]) for r in rows if r["binary"] == b)
    med[b] = (e, i)
    print(f"{b}: VAE epoch {e:.2f} s (median), IWAE k={k} eval {i:.1f} s = {10000 * k / i:,.0f} samples/s")
print(f"ratio new/old: epoch {med['new'][0] / med['old'][0]:.3f}x, IWAE eval time {med['new'][1] / med['old'][1]:.3f}x")
PY
