#!/usr/bin/env bash
# elbo vs PyTorch: the pytorch/examples VAE on MNIST, same recipe on both sides,
# runs interleaved, then a summary table (bench/summarize.py).
#
# Usage: bench/vae_mnist.sh [MNIST_DIR]
#   MNIST_DIR   directory with the four MNIST IDX .gz files
#               (default: $(git rev-parse --show-toplevel)/../shared/data/mnist)
#
# Environment knobs (defaults in brackets):
#   RUNS [3]            runs per implementation (interleaved: run i of elbo, run i of
#                       PyTorch, order swapped on even runs)
#   EPOCHS [10]         epochs per run; the recipe is otherwise fixed:
#                       batch 128, Adam lr 1e-3, grey pixels u8/255
#   THREADS [2]         --threads for elbo, torch.set_num_threads for PyTorch
#   SEED_BASE [1]       run i uses seed SEED_BASE+i-1 on both sides
#   IMPLS ["elbo pytorch"]  which sides to run (e.g. IMPLS=pytorch)
#   ELBO_BIN [<repo>/target/release/elbo, or $CARGO_TARGET_DIR/release/elbo]
#   ELBO_BUILD [auto]   auto: `cargo build --release -p elbo-cli` only if ELBO_BIN is
#                       missing; always: run that build first anyway; never: don't build
#   OUT_DIR [bench/out/vae_mnist-<timestamp>]   where the raw outputs go
#
# Needs bench/.venv (run bench/setup.sh once) and GNU time at /usr/bin/time.
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(git -C "$BENCH_DIR" rev-parse --show-toplevel 2>/dev/null || (cd "$BENCH_DIR/.." && pwd))

die() { echo "vae_mnist.sh: error: $*" >&2; exit 1; }
SCRIPT=vae_mnist.sh
# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

case "${1:-}" in -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "${BASH_SOURCE[0]}"; exit 0 ;; esac

DATA_DIR=${1:-$REPO_ROOT/../shared/data/mnist}
RUNS=${RUNS:-3}
EPOCHS=${EPOCHS:-10}
THREADS=${THREADS:-2}
SEED_BASE=${SEED_BASE:-1}
IMPLS=${IMPLS:-elbo pytorch}
ELBO_BIN=${ELBO_BIN:-${CARGO_TARGET_DIR:-$REPO_ROOT/target}/release/elbo}
ELBO_BUILD=${ELBO_BUILD:-auto}
BATCH_SIZE=128
LR=1e-3
VENV_PY="$BENCH_DIR/.venv/bin/python"

for v in RUNS EPOCHS THREADS SEED_BASE; do
  [[ ${!v} =~ ^[0-9]+$ ]] && [ "${!v}" -ge 1 ] || die "$v must be a positive integer (got '${!v}')"
done
for impl in $IMPLS; do
  case "$impl" in elbo|pytorch) ;; *) die "IMPLS: unknown implementation '$impl'" ;; esac
done
want() { [[ " $IMPLS " == *" $1 "* ]]; }

# --- preconditions ---------------------------------------------------------------
[ -d "$DATA_DIR" ] || die "MNIST directory not found: $DATA_DIR
  pass it as the first argument: bench/vae_mnist.sh /path/to/mnist"
DATA_DIR=$(cd "$DATA_DIR" && pwd)
for f in train-images-idx3-ubyte.gz train-labels-idx1-ubyte.gz \
         t10k-images-idx3-ubyte.gz t10k-labels-idx1-ubyte.gz; do
  [ -f "$DATA_DIR/$f" ] || die "missing $DATA_DIR/$f (need the four MNIST IDX .gz files)"
done

if want pytorch; then
  [ -x "$VENV_PY" ] || die "no Python venv at $BENCH_DIR/.venv; run bench/setup.sh first"
  "$VENV_PY" -c "import torch, numpy" 2>/dev/null \
    || die "torch/numpy not importable from $BENCH_DIR/.venv; run bench/setup.sh first"
fi

ensure_gnu_time
if want elbo; then ensure_elbo; fi

# --- output directory -------------------------------------------------------------
OUT_DIR=${OUT_DIR:-$BENCH_DIR/out/vae_mnist-$(date +%Y%m%d-%H%M%S)}
mkdir -p "$OUT_DIR"
OUT_DIR=$(cd "$OUT_DIR" && pwd)
for impl in $IMPLS; do mkdir -p "$OUT_DIR/$impl"; done

loadavg() { cut -d' ' -f1 /proc/loadavg; }

{
  echo "date: $(date -Is)"
  echo "host: $(hostname) nproc=$(nproc) cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')"
  echo "repo: $REPO_ROOT commit=$(GIT_OPTIONAL_LOCKS=0 git -C "$REPO_ROOT" rev-parse HEAD 2>/dev/null || echo '?')" \
       "tracked-changes=$(GIT_OPTIONAL_LOCKS=0 git -C "$REPO_ROOT" diff --quiet HEAD -- 2>/dev/null && echo no || echo yes)"
  echo "data: $DATA_DIR"
  echo "recipe: epochs=$EPOCHS batch_size=$BATCH_SIZE lr=$LR threads=$THREADS runs=$RUNS seed_base=$SEED_BASE impls=$IMPLS"
  if want elbo; then
    echo "elbo: $ELBO_BIN ($("$ELBO_BIN" --version 2>/dev/null | head -1 || true))"
  fi
  if want pytorch; then
    echo "pytorch: $("$VENV_PY" -c 'import torch, sys; print("torch", torch.__version__, "python", sys.version.split()[0])')"
  fi
  echo "loadavg at start: $(cat /proc/loadavg)"
} > "$OUT_DIR/meta.txt"
cat "$OUT_DIR/meta.txt" >&2

la=$(loadavg)
if awk -v l="$la" 'BEGIN { exit !(l > 0.5) }'; then
  echo "vae_mnist.sh: warning: 1-minute load average is $la; something else is using the CPU, timings will be noisy" >&2
fi

TIME_FMT='max_rss_kb=%M wall_s=%e user_s=%U sys_s=%S'

# run_one IMPL RUN SEED ORDER
run_one() {
  local impl=$1 run=$2 seed=$3 order=$4
  local base="$OUT_DIR/$impl/run-$run"
  local la_start la_end rc=0
  la_start=$(loadavg)
  echo "vae_mnist.sh: [$(date +%H:%M:%S)] $impl run $run/$RUNS (seed $seed, load $la_start)" >&2
  # timing/stdout/stderr files sit next to the run directory, not inside it:
  # elbo's --force may clear its --out directory.
  if [ "$impl" = elbo ]; then
    /usr/bin/time -f "$TIME_FMT" -o "$base.time" \
      "$ELBO_BIN" train vae --data "mnist:$DATA_DIR" --pixels grey --epochs "$EPOCHS" \
        --batch-size "$BATCH_SIZE" --lr "$LR" --seed "$seed" --threads "$THREADS" \
        --out "$base" --force --quiet \
      > "$base.stdout" 2> "$base.stderr" || rc=$?
  else
    mkdir -p "$base"
    /usr/bin/time -f "$TIME_FMT" -o "$base.time" \
      "$VENV_PY" "$BENCH_DIR/torch_vae.py" "$DATA_DIR" --epochs "$EPOCHS" \
        --batch-size "$BATCH_SIZE" --lr "$LR" --seed "$seed" --threads "$THREADS" \
      > "$base/metrics.jsonl" 2> "$base.stderr" || rc=$?
  fi
  la_end=$(loadavg)
  printf '{"impl":"%s","run":%d,"seed":%d,"order":%d,"exit_code":%d,"loadavg_start":%s,"loadavg_end":%s}\n' \
    "$impl" "$run" "$seed" "$order" "$rc" "$la_start" "$la_end" > "$base.info"
  if [ "$rc" != 0 ]; then
    echo "vae_mnist.sh: error: $impl run $run exited with status $rc; last lines of $base.stderr:" >&2
    tail -n 20 "$base.stderr" >&2 || true
    exit 1
  fi
  [ -s "$base/metrics.jsonl" ] || die "$impl run $run wrote no $base/metrics.jsonl"
  echo "vae_mnist.sh:   $(cat "$base.time")" >&2
}

# peak RSS of a bare `import torch`, to read PyTorch's peak RSS against
if want pytorch; then
  /usr/bin/time -f "$TIME_FMT" -o "$OUT_DIR/pytorch/import-baseline.time" \
    "$VENV_PY" -c "import torch; torch.set_num_threads($THREADS); torch.ones(1).add_(1)"
fi

read -r -a impls_arr <<< "$IMPLS"
for ((i = 1; i <= RUNS; i++)); do
  seed=$((SEED_BASE + i - 1))
  if (( i % 2 == 1 )); then order=("${impls_arr[@]}"); else
    order=(); for ((j = ${#impls_arr[@]} - 1; j >= 0; j--)); do order+=("${impls_arr[j]}"); done
  fi
  k=0
  for impl in "${order[@]}"; do
    k=$((k + 1))
    run_one "$impl" "$i" "$seed" "$k"
  done
done

echo "loadavg at end: $(cat /proc/loadavg)" >> "$OUT_DIR/meta.txt"

python_for_stats="$VENV_PY"
[ -x "$python_for_stats" ] || python_for_stats=python3
echo >&2
"$python_for_stats" "$BENCH_DIR/summarize.py" "$OUT_DIR" --expect-epochs "$EPOCHS" \
  --json "$OUT_DIR/summary.json" | tee "$OUT_DIR/summary.txt"
echo
echo "raw outputs: $OUT_DIR"
