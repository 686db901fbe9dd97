#!/usr/bin/env bash
# The published number: Burda et al. 2016 (IWAE), Table 1, one stochastic layer.
# Trains their VAE (784-200-200-50, tanh, Bernoulli decoder mirrored) on dynamically
# binarized MNIST for a wall-time budget on 2 threads, evaluating the IWAE bound on the
# 10k test images at growing epoch counts, then -log p(x) with K = 5000 at the end.
# Paper: VAE 86.76 nats, IWAE (k = 50) 84.78, after 3,280 passes.
#
# Usage: bench/iwae_table1.sh [MNIST_DIR]
#   MNIST_DIR   the four MNIST IDX .gz files (default: <repo>/../shared/data/mnist)
#
# Environment knobs (defaults in brackets):
#   OBJECTIVE [elbo]     elbo, or iwae (train on the IWAE bound with k = IWAE_K)
#   IWAE_K [50]          k for OBJECTIVE=iwae
#   BUDGET_S [3600]      training wall-time budget in seconds (evaluations not counted)
#   BATCH [100]  LR [0.001]  THREADS [2]  SEED [1]
#   LR_DECAY_EPOCHS [0]  Burda et al.'s learning-rate decay (3^i passes at
#                        LR*10^(-i/7), i = 0..7) compressed to this many epochs;
#                        0 keeps LR constant. Set it to the epochs the budget fits.
#   LR_HOLD_EPOCHS [0]   epochs at LR before that decay starts (--lr-hold-epochs)
#   TEST_EVERY [25]      the trainer's own test pass (metrics.jsonl) every N epochs;
#                        the curve's points come from `elbo eval` either way
#   CURVE_K [500]        importance samples for the intermediate points of the curve
#   FINAL_K [5000]       importance samples for the final number
#   SCHEDULE ["5 15 40 100 200 350 550 800 1100 1500 2000 2600 3280"]
#                        epoch counts at which to evaluate (cut short by the budget)
#   ELBO_BIN, ELBO_BUILD [auto]   as in bench/vae_mnist.sh
#   OUT_DIR [bench/out/iwae_table1-<objective>-<timestamp>]
#
# Writes OUT_DIR/curve.csv (epoch, train_seconds, test_elbo_loss, iwae_k, nll) and
# OUT_DIR/final.json; the training wall time is measured around each `elbo train`
# segment (resume is exact, so segments add up to one straight run).
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(git -C "$BENCH_DIR" rev-parse --show-toplevel 2>/dev/null || (cd "$BENCH_DIR/.." && pwd))
die() { echo "iwae_table1.sh: error: $*" >&2; exit 1; }
SCRIPT=iwae_table1.sh
# shellcheck source=bench/lib.sh
source "$BENCH_DIR/lib.sh"

case "${1:-}" in -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "${BASH_SOURCE[0]}"; exit 0 ;; esac

DATA_DIR=${1:-$REPO_ROOT/../shared/data/mnist}
OBJECTIVE=${OBJECTIVE:-elbo}
IWAE_K=${IWAE_K:-50}
BUDGET_S=${BUDGET_S:-3600}
BATCH=${BATCH:-100}
LR=${LR:-0.001}
LR_DECAY_EPOCHS=${LR_DECAY_EPOCHS:-0}
LR_HOLD_EPOCHS=${LR_HOLD_EPOCHS:-0}
TEST_EVERY=${TEST_EVERY:-25}
THREADS=${THREADS:-2}
SEED=${SEED:-1}
CURVE_K=${CURVE_K:-500}
FINAL_K=${FINAL_K:-5000}
SCHEDULE=${SCHEDULE:-5 15 40 100 200 350 550 800 1100 1500 2000 2600 3280}
ELBO_BIN=${ELBO_BIN:-${CARGO_TARGET_DIR:-$REPO_ROOT/target}/release/elbo}
ELBO_BUILD=${ELBO_BUILD:-auto}
OUT_DIR=${OUT_DIR:-$BENCH_DIR/out/iwae_table1-$OBJECTIVE-$(date +%Y%m%d-%H%M%S)}

[ -d "$DATA_DIR" ] || die "MNIST folder not found: $DATA_DIR"
case "$OBJECTIVE" in
  elbo) SAMPLES=1 ;;
  iwae) SAMPLES=$IWAE_K ;;
  *) die "OBJECTIVE must be elbo or iwae (got '$OBJECTIVE')" ;;
esac
for v in BUDGET_S BATCH THREADS CURVE_K FINAL_K IWAE_K TEST_EVERY; do
  [[ ${!v} =~ ^[0-9]+$ ]] && [ "${!v}" -ge 1 ] || die "$v must be a positive integer (got '${!v}')"
done
ensure_elbo
mkdir -p "$OUT_DIR"
RUN="$OUT_DIR/run"
CSV="$OUT_DIR/curve.csv"
echo "epoch,train_seconds,test_elbo_loss,iwae_k,nll" >"$CSV"
echo "iwae_table1.sh: $OBJECTIVE, budget ${BUDGET_S}s, batch $BATCH, lr $LR (held $LR_HOLD_EPOCHS epochs, then decay over $LR_DECAY_EPOCHS), $THREADS threads -> $OUT_DIR" >&2
echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)" >"$OUT_DIR/load.txt"

now() { date +%s.%N; }
spent=0
done_epochs=0
# One training segment up to $1 epochs in total; adds its wall time to $spent.
segment() {
  local target=$1 t0 t1 from=$done_epochs
  t0=$(now)
  if [ "$done_epochs" = 0 ]; then
    "$ELBO_BIN" train vae --data "mnist:$DATA_DIR" --pixels dynamic --hidden 200,200 \
      --latent 50 --activation tanh --batch-size "$BATCH" --lr "$LR" --seed "$SEED" \
      --iwae-samples "$SAMPLES" --lr-decay-epochs "$LR_DECAY_EPOCHS" \
      --lr-hold-epochs "$LR_HOLD_EPOCHS" --test-every "$TEST_EVERY" --epochs "$target" --threads "$THREADS" --out "$RUN" \
      --quiet --no-pictures
  else
    "$ELBO_BIN" train --resume "$RUN" --epochs "$target" --threads "$THREADS" --quiet --no-pictures
  fi
  t1=$(now)
  spent=$(python3 -c "print($spent + $t1 - $t0)")
  last_rate=$(python3 -c "print(($t1 - $t0) / max(1, $target - $from))")
  done_epochs=$target
}
# Evaluates the run with K importance samples; appends a CSV row; prints the JSON.
evaluate() {
  local k=$1 json
  json=$("$ELBO_BIN" eval --model "$RUN" --iwae "$k" --json --threads "$THREADS")
  python3 - "$json" "$done_epochs" "$spent" "$k" >>"$CSV" <<'EOF'
import json, sys
r = json.loads(sys.argv[1])
print(f"{sys.argv[2]},{float(sys.argv[3]):.1f},{r['loss']:.4f},{sys.argv[4]},{r['iwae']['nats']:.4f}")
EOF
  echo "$json"
}

for target in $SCHEDULE; do
  # Seconds per epoch so far (the slower of the mean and the last segment's,
  # since epochs slow down as the load changes), to cut the last segment at the budget.
  if [ "$done_epochs" -gt 0 ]; then
    fits=$(python3 -c "per = max($spent / $done_epochs, $last_rate); print(int(($BUDGET_S - $spent) / per))")
    [ "$fits" -ge 1 ] || break
    [ $((done_epochs + fits)) -lt "$target" ] && target=$((done_epochs + fits))
  fi
  segment "$target"
  evaluate "$CURVE_K" >/dev/null
  tail -1 "$CSV" >&2
  python3 -c "import sys; sys.exit(0 if $spent < $BUDGET_S else 1)" || break
done
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)" >>"$OUT_DIR/load.txt"
evaluate "$FINAL_K" >"$OUT_DIR/final.json"
tail -1 "$CSV" >&2
echo "iwae_table1.sh: after $done_epochs epochs, ${spent%.*} s of training: $(cat "$OUT_DIR/final.json")"
