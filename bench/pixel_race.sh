#!/usr/bin/env bash
# Issue 6, section 4: PixelCNN, Gated PixelCNN and Row LSTM side by side at
# equal wall time on statically binarized MNIST. The three train at once, one
# thread each, sharing the machine's cores, for SECONDS; each is then stopped
# by Ctrl-C (SIGINT: elbo saves a checkpoint mid-epoch) and evaluated exactly
# on the first VALID validation images.
#
#   bench/pixel_race.sh [DATA_DIR]
#
# Environment: SECONDS_EACH [600]; VALID [2000]; ELBO_BIN [target/release/elbo];
# OUT [bench/out/pixel_race]; SIZE [--hidden 32 --layers 8 --output-hidden 64].
set -euo pipefail
REPO_ROOT=$(cd "$(dirname "$0")/.." && pwd)
DATA=${1:-$REPO_ROOT/../shared/data/binarized_mnist}
SECONDS_EACH=${SECONDS_EACH:-600}
VALID=${VALID:-2000}
ELBO_BIN=${ELBO_BIN:-$REPO_ROOT/target/release/elbo}
OUT=${OUT:-$REPO_ROOT/bench/out/pixel_race}
read -r -a SIZE <<<"${SIZE:---hidden 32 --layers 8 --output-hidden 64}"
[ -f "$DATA/binarized_mnist_train.amat.gz" ] || { echo "pixel_race.sh: no $DATA/binarized_mnist_train.amat.gz" >&2; exit 1; }
[ -x "$ELBO_BIN" ] || { echo "pixel_race.sh: no elbo binary at $ELBO_BIN" >&2; exit 1; }
mkdir -p "$OUT/data"
# The training file as is; the validation file cut to its first VALID images.
ln -sf "$DATA/binarized_mnist_train.amat.gz" "$OUT/data/binarized_mnist_train.amat.gz"
# (zcat dies of SIGPIPE once head has its lines; that is not a failure.)
{ zcat "$DATA/binarized_mnist_valid.amat.gz" || true; } | head -n "$VALID" | gzip >"$OUT/data/binarized_mnist_valid.amat.gz"
echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
pids=()
for kind in pixelcnn gated-pixelcnn pixelrnn; do
  extra=()
  [ "$kind" = pixelcnn ] && extra=(--kernel 5)
  "$ELBO_BIN" train "$kind" --data "amat:$OUT/data/binarized_mnist_train.amat.gz" "${SIZE[@]}" "${extra[@]}" \
    --batch-size 32 --epochs 1 --threads 1 --quiet --no-pictures --force --out "$OUT/$kind" &
  pids+=($!)
done
sleep "$SECONDS_EACH"
for p in "${pids[@]}"; do kill -INT "$p" 2>/dev/null || true; done
wait || true
echo "load average at end of training: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "| model | steps in ${SECONDS_EACH} s | images | validation NLL (first $VALID), nats |"
echo "|---|---|---|---|"
for kind in pixelcnn gated-pixelcnn pixelrnn; do
  # Steps done: whole epochs (1,563 steps of 32) plus the interrupted epoch's.
  steps=$(python3 -c "import json; s=json.load(open('$OUT/$kind/state.json')); print(s['epochs_done'] * 1563 + s['step'])")
  nll=$("$ELBO_BIN" --threads 2 eval --model "$OUT/$kind" --json | python3 -c "import json,sys; r=json.load(sys.stdin); print(f\"{r['nats']:.2f} ± {r['std_error']:.2f}\")")
  echo "| $kind | $steps | $((steps * 32)) | $nll |"
done
