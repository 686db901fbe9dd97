#!/usr/bin/env bash
# Seconds per training epoch on the embedded digits, `--device cpu` against
# `--device gpu`, interleaved in one run: the VAE (the default recipe) and a
# small PixelCNN. On a machine without a GPU, `--device gpu` runs on Mesa's
# lavapipe (software Vulkan on the CPU): a correctness path, not a fast one.
#
#   bench/device_epoch.sh
#
# Environment: REPS [3] rounds; ELBO_BIN [target/release/elbo, built with
# the default features, which include gpu]; OUT [/tmp/elbo_device_epoch]; THREADS [all cores].
# The epoch's seconds are the training time metrics.jsonl records (the test
# pass excluded). Prints one line per run, then the medians and gpu/cpu ratios.
set -euo pipefail
REPO_ROOT=$(cd "$(dirname "$0")/.." && pwd)
REPS=${REPS:-3}
ELBO_BIN=${ELBO_BIN:-$REPO_ROOT/target/release/elbo}
OUT=${OUT:-/tmp/elbo_device_epoch}
THREADS=${THREADS:-}
[ -x "$ELBO_BIN" ] || { echo "device_epoch.sh: no elbo binary at $ELBO_BIN (cargo build --release -p elbo-cli)" >&2; exit 1; }
export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-$(mktemp -d)}"
mkdir -p "$OUT"
threads=()
[ -n "$THREADS" ] && threads=(--threads "$THREADS")
# name|family and flags
MODELS=("vae|vae" "pixelcnn|pixelcnn --hidden 16 --layers 4 --output-hidden 32")
results="$OUT/results.txt"
: >"$results"
for rep in $(seq 1 "$REPS"); do
  for entry in "${MODELS[@]}"; do
    name=${entry%%|*}
    read -r -a flags <<<"${entry#*|}"
    for device in cpu gpu; do
      run="$OUT/$name-$device"
      rm -rf "$run"
      "$ELBO_BIN" train "${flags[@]}" --data digits --epochs 1 --quiet --no-pictures \
        --device "$device" "${threads[@]}" --out "$run" >/dev/null
      secs=$(python3 -c 'import json,sys; print(json.loads(open(sys.argv[1]).readline())["epoch_seconds"])' \
        "$run/metrics.jsonl")
      echo "$rep $name $device $secs" | tee -a "$results"
    done
  done
done
python3 - "$results" <<'PY'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1])]
med = {}
for name in dict.fromkeys(r[1] for r in rows):
    for device in ("cpu", "gpu"):
        med[name, device] = statistics.median(float(r[3]) for r in rows if r[1] == name and r[2] == device)
    print(f"{name}: cpu {med[name, 'cpu']:.2f} s, gpu {med[name, 'gpu']:.2f} s per epoch, "
          f"gpu/cpu {med[name, 'gpu'] / med[name, 'cpu']:.1f}x")
PY
