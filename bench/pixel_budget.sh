#!/usr/bin/env bash
# PixelCNN on statically binarized MNIST for a fixed
# training-time budget on 2 threads; validation NLL against training seconds.
#
#   bench/pixel_budget.sh [DATA_DIR]
#
# DATA_DIR holds binarized_mnist_{train,valid}.amat.gz (default
# ../shared/data/binarized_mnist); the valid file is elbo's test split.
# Environment: BUDGET_S [7200] training seconds; FIRST [4] epochs before the
# epoch count is sized; LOW [2] epochs at the end at the decayed rate;
# ELBO_BIN [target/release/elbo]; ELBO_BUILD [auto: build it if missing];
# OUT [bench/out/pixel_budget]; THREADS [2];
# ARCH [--hidden 32 --layers 8 --kernel 5 --output-hidden 64].
#
# Schedule: Adam at 1e-3, then the last LOW epochs at ~1e-4 (TrainConfig's
# compressed Burda decay, lr_decay_epochs = 3: the first decayed epoch still
# runs at 1e-3, the next at 1e-4). The total epoch count N is only known once
# epochs have been timed, so the run goes in segments (resume is exact):
# FIRST epochs at a constant rate; then N is sized from the slower of the mean
# and the last segment's epoch time, the hold (lr_hold_epochs = N - LOW - 1)
# is written into the run's config.toml (it only changes epochs not yet run,
# and the final config.toml reproduces the whole run from scratch), and the
# run resumes to N - LOW; N is sized again and the run resumes to the end.
# Training seconds are the sum of metrics.jsonl's epoch_seconds (steps only,
# without the per-epoch validation pass).
set -euo pipefail
REPO_ROOT=$(cd "$(dirname "$0")/.." && pwd)
DATA=${1:-$REPO_ROOT/../shared/data/binarized_mnist}
BUDGET_S=${BUDGET_S:-7200}
FIRST=${FIRST:-4}
LOW=${LOW:-2}
THREADS=${THREADS:-2}
ELBO_BIN=${ELBO_BIN:-$REPO_ROOT/target/release/elbo}
ELBO_BUILD=${ELBO_BUILD:-auto}
OUT=${OUT:-$REPO_ROOT/bench/out/pixel_budget}
read -r -a ARCH <<<"${ARCH:---hidden 32 --layers 8 --kernel 5 --output-hidden 64}"
SCRIPT=pixel_budget.sh
die() { echo "$SCRIPT: $*" >&2; exit 1; }
# shellcheck source=bench/lib.sh
. "$REPO_ROOT/bench/lib.sh"
[ -f "$DATA/binarized_mnist_train.amat.gz" ] || die "no $DATA/binarized_mnist_train.amat.gz"
ensure_elbo
mkdir -p "$OUT"
RUN="$OUT/run"
echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)" | tee "$OUT/load.txt"

# Prints "<training seconds so far> <epochs done> <epoch seconds to plan with>".
progress() {
  python3 - "$RUN/metrics.jsonl" "$1" <<'EOF'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
secs = [r["epoch_seconds"] for r in rows]
last = secs[-int(sys.argv[2]):]
print(f"{sum(secs):.1f} {len(secs)} {max(sum(secs) / len(secs), sum(last) / len(last)):.1f}")
EOF
}
# Epochs in total that fit the budget: done + floor(left / rate).
fit() { python3 -c "import math; print($2 + max(0, math.floor(($BUDGET_S - $1) / $3)))"; }
set_hold() {
  sed -i -E "s/^lr_hold_epochs = .*/lr_hold_epochs = $1/; s/^lr_decay_epochs = .*/lr_decay_epochs = 3/" \
    "$RUN/config.toml"
  echo "lr_hold_epochs = $1, lr_decay_epochs = 3" >&2
}

"$ELBO_BIN" train pixelcnn --data "amat:$DATA/binarized_mnist_train.amat.gz" "${ARCH[@]}" \
  --batch-size 32 --lr 1e-3 --epochs "$FIRST" --threads "$THREADS" --no-pictures --force --out "$RUN"
read -r spent done rate <<<"$(progress "$FIRST")"
n=$(fit "$spent" "$done" "$rate")
echo "after $done epochs: $spent s, ~$rate s/epoch -> $n epochs in all" >&2
hold=$((n - LOW - 1))
[ "$hold" -ge "$done" ] || hold=$done
set_hold "$hold"
if [ $((hold + 1)) -gt "$done" ]; then
  "$ELBO_BIN" train --resume "$RUN" --epochs $((hold + 1)) --threads "$THREADS" --no-pictures
fi
read -r spent done rate <<<"$(progress $((hold + 1 - FIRST > 0 ? hold + 1 - FIRST : 1)))"
n=$(fit "$spent" "$done" "$rate")
echo "after $done epochs: $spent s, ~$rate s/epoch -> $n epochs in all" >&2
if [ "$n" -gt "$done" ]; then
  "$ELBO_BIN" train --resume "$RUN" --epochs "$n" --threads "$THREADS" --no-pictures
fi
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$OUT/load.txt"
python3 - "$RUN/metrics.jsonl" <<'EOF' | tee "$OUT/curve.csv"
import json, sys
t = 0.0
print("epoch,train_seconds,train_nll,valid_nll")
for l in open(sys.argv[1]):
    r = json.loads(l)
    t += r["epoch_seconds"]
    print(f"{r['epoch']},{t:.1f},{r['train_loss']:.3f},{r['test_loss']:.3f}")
EOF
