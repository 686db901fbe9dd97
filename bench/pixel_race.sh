#!/usr/bin/env bash
# PixelCNN, Gated PixelCNN and Row LSTM side by side at
# equal wall time on statically binarized MNIST. The three train at once, one
# thread each, sharing the machine's cores, for SECONDS; each is then stopped
# by Ctrl-C (SIGINT: elbo saves a checkpoint mid-epoch) and evaluated exactly
# on the first VALID validation images.
#
#   bench/pixel_race.sh [DATA_DIR]
#
# Environment: SECONDS_EACH [600]; VALID [2000]; ELBO_BIN [target/release/elbo];
# ELBO_BUILD [auto: build it if missing];
# OUT [bench/out/pixel_race]; SIZE [--hidden 32 --layers 8 --output-hidden 64].
set -euo pipefail
REPO_ROOT=$(cd "$(dirname "$0")/.." && pwd)
DATA=${1:-$REPO_ROOT/../shared/data/binarized_mnist}
SECONDS_EACH=${SECONDS_EACH:-600}
VALID=${VALID:-2000}
ELBO_BIN=${ELBO_BIN:-$REPO_ROOT/target/release/elbo}
ELBO_BUILD=${ELBO_BUILD:-auto}
OUT=${OUT:-$REPO_ROOT/bench/out/pixel_race}
read -r -a SIZE <<<"${SIZE:---hidden 32 --layers 8 --output-hidden 64}"
SCRIPT=pixel_race.sh
die() { echo "$SCRIPT: $*" >&2; exit 1; }
# shellcheck source=bench/lib.sh
. "$REPO_ROOT/bench/lib.sh"
[ -f "$DATA/binarized_mnist_train.amat.gz" ] || die "no $DATA/binarized_mnist_train.amat.gz"
ensure_elbo
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
  # Steps and images: an interrupted epoch's from state.json, a finished one's
  # (the run may end before the signal on small data) from metrics.jsonl.
  read -r steps images < <(python3 - "$OUT/$kind" <<'EOF'
import json, math, os, sys
s = json.load(open(os.path.join(sys.argv[1], "state.json")))
if s["epochs_done"] == 0:
    print(s["step"], s["partial"]["images"])
else:
    m = json.loads(open(os.path.join(sys.argv[1], "metrics.jsonl")).readline())
    n = round(m["images_per_second"] * m["epoch_seconds"])
    print(math.ceil(n / 32), n)
EOF
)
  nll=$("$ELBO_BIN" --threads 2 eval --model "$OUT/$kind" --json | python3 -c "import json,sys; r=json.load(sys.stdin); n=r['nll']; print(f\"{n['nats']:.2f} ± {n['std_error']:.2f}\")")
  echo "| $kind | $steps | $images | $nll |"
done
