#!/usr/bin/env bash
# elbo vs scikit-learn: Gaussian mixtures by EM on MNIST, same data, same
# initial means, same iteration count, runs interleaved; then elbo's mixture of
# Bernoullis on binarized MNIST (no scikit-learn counterpart).
#
# Usage: bench/gmm_mnist.sh [MNIST_DIR [BINARIZED_DIR]]
#   MNIST_DIR       the four MNIST IDX .gz files  (default: <repo>/../shared/data/mnist)
#   BINARIZED_DIR   binarized_mnist_{train,valid}.amat.gz (default: <repo>/../shared/data/binarized_mnist)
#
# Cases:
#   pca50-full    PCA-50 of the 60k training images, full covariances, K = 10, FULL_ITERS iterations
#   pixels-diag   the 784 pixels (u8/255, not dequantized), diag, K = 50, reg_covar 1e-2, DIAG_ITERS iterations
#   bernoulli     mixture of Bernoullis, K = BMM_K on the 50k binarized training images,
#                 BMM_ITERS iterations; validation NLL on the 10k validation images
# Both sides start from the same K training images as means (bench/sklearn_gmm.py init),
# tol = 0; times are EM only (PCA and data loading excluded on both sides).
#
# Environment knobs (defaults in brackets):
#   RUNS [1]  THREADS [2]  FULL_ITERS [100]  DIAG_ITERS [30]  BMM_K [500]  BMM_ITERS [20]
#   CASES ["pca50-full pixels-diag bernoulli"]
#   ELBO_BIN [<repo>/target/release/elbo]  ELBO_BUILD [auto]  OUT_DIR [bench/out/gmm_mnist-<timestamp>]
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(git -C "$BENCH_DIR" rev-parse --show-toplevel 2>/dev/null || (cd "$BENCH_DIR/.." && pwd))
die() { echo "gmm_mnist.sh: error: $*" >&2; exit 1; }
SCRIPT=gmm_mnist.sh
# shellcheck source=bench/lib.sh
source "$BENCH_DIR/lib.sh"

case "${1:-}" in -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "${BASH_SOURCE[0]}"; exit 0 ;; esac

MNIST_DIR=${1:-$REPO_ROOT/../shared/data/mnist}
BIN_DIR=${2:-$REPO_ROOT/../shared/data/binarized_mnist}
RUNS=${RUNS:-1}
THREADS=${THREADS:-2}
export THREADS FULL_ITERS=${FULL_ITERS:-100} DIAG_ITERS=${DIAG_ITERS:-30}
BMM_K=${BMM_K:-500}
BMM_ITERS=${BMM_ITERS:-20}
CASES=${CASES:-pca50-full pixels-diag bernoulli}
ELBO_BIN=${ELBO_BIN:-${CARGO_TARGET_DIR:-$REPO_ROOT/target}/release/elbo}
ELBO_BUILD=${ELBO_BUILD:-auto}
VENV_PY="$BENCH_DIR/.venv/bin/python"
[ -x "$VENV_PY" ] || VENV_PY=/work/main/bench/.venv/bin/python

[ -d "$MNIST_DIR" ] || die "MNIST directory not found: $MNIST_DIR"
MNIST_DIR=$(cd "$MNIST_DIR" && pwd)
[ -x "$VENV_PY" ] || die "no Python venv at $BENCH_DIR/.venv; run bench/setup.sh first"
ensure_elbo

OUT_DIR=${OUT_DIR:-$BENCH_DIR/out/gmm_mnist-$(date +%Y%m%d-%H%M%S)}
mkdir -p "$OUT_DIR"
OUT_DIR=$(cd "$OUT_DIR" && pwd)
RESULTS="$OUT_DIR/results.jsonl"
: > "$RESULTS"
{
  echo "date: $(date -Is)"
  echo "host: $(hostname) nproc=$(nproc) cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')"
  echo "repo commit: $(git -C "$REPO_ROOT" rev-parse HEAD 2>/dev/null || echo '?')"
  echo "settings: threads=$THREADS runs=$RUNS full_iters=$FULL_ITERS diag_iters=$DIAG_ITERS bmm_k=$BMM_K bmm_iters=$BMM_ITERS"
  echo "sklearn: $("$VENV_PY" -c 'import sklearn, numpy; print("scikit-learn", sklearn.__version__, "numpy", numpy.__version__)')"
  echo "loadavg at start: $(cat /proc/loadavg)"
} | tee "$OUT_DIR/meta.txt" >&2

"$VENV_PY" "$BENCH_DIR/sklearn_gmm.py" init "$MNIST_DIR" "$OUT_DIR"

# elbo_case CASE RUN: one elbo fit; appends its JSON line to results.jsonl.
elbo_case() {
  local case=$1 run=$2 dir="$OUT_DIR/elbo-$1-$2" flags
  case "$case" in
    pca50-full) flags="--pca 50 --components 10 --covariance full --reg-covar 1e-6 --max-iter $FULL_ITERS" ;;
    pixels-diag) flags="--components 50 --covariance diag --reg-covar 1e-2 --max-iter $DIAG_ITERS --no-dequantize" ;;
  esac
  # shellcheck disable=SC2086
  "$ELBO_BIN" --threads "$THREADS" train gmm --data "mnist:$MNIST_DIR" $flags --tol 0 \
    --means-init "$OUT_DIR/${case}_means.npy" --no-pictures --force --out "$dir" > "$dir.stdout" 2>&1 \
    || die "elbo failed on $case (see $dir.stdout)"
  "$VENV_PY" - "$dir/metrics.jsonl" "$case" "$(cut -d' ' -f1 /proc/loadavg)" >> "$RESULTS" <<'PY'
import json, sys
m = json.loads(open(sys.argv[1]).readline())
print(json.dumps({"impl": "elbo", "case": sys.argv[2], "fit_seconds": m["fit_seconds"],
                  "n_iter": m["convergence"]["n_iter"], "lower_bound": m["convergence"]["lower_bound"],
                  "train_ll": m["train"]["log_likelihood"], "test_ll": m["test"]["log_likelihood"],
                  "load": float(sys.argv[3])}))
PY
}

sklearn_case() {
  local line
  line=$("$VENV_PY" "$BENCH_DIR/sklearn_gmm.py" fit "$1" "$MNIST_DIR" "$OUT_DIR") || die "scikit-learn failed on $1"
  echo "$line" | "$VENV_PY" -c "import json,sys; d=json.loads(sys.stdin.read()); d['load']=float('$(cut -d' ' -f1 /proc/loadavg)'); print(json.dumps(d))" >> "$RESULTS"
}

for case in $CASES; do
  [ "$case" = bernoulli ] && continue
  for run in $(seq 1 "$RUNS"); do
    echo "gmm_mnist.sh: [$(date +%H:%M:%S)] $case run $run (load $(cut -d' ' -f1 /proc/loadavg))" >&2
    if [ $((run % 2)) = 1 ]; then elbo_case "$case" "$run"; sklearn_case "$case"
    else sklearn_case "$case"; elbo_case "$case" "$run"; fi
  done
done

if [[ " $CASES " == *" bernoulli "* ]]; then
  echo "gmm_mnist.sh: [$(date +%H:%M:%S)] bernoulli K=$BMM_K, $BMM_ITERS iterations (load $(cut -d' ' -f1 /proc/loadavg))" >&2
  dir="$OUT_DIR/elbo-bernoulli"
  "$ELBO_BIN" --threads "$THREADS" train bernoulli-mixture --data "amat:$BIN_DIR/binarized_mnist_train.amat.gz" \
    --components "$BMM_K" --max-iter "$BMM_ITERS" --tol 0 --no-pictures --force --out "$dir" > "$dir.stdout" 2>&1 \
    || die "elbo failed on the Bernoulli mixture (see $dir.stdout)"
  "$VENV_PY" - "$dir/metrics.jsonl" "$(cut -d' ' -f1 /proc/loadavg)" >> "$RESULTS" <<'PY'
import json, sys
m = json.loads(open(sys.argv[1]).readline())
c = m["convergence"]
print(json.dumps({"impl": "elbo", "case": "bernoulli", "fit_seconds": m["fit_seconds"], "n_iter": c["n_iter"],
                  "seconds_per_iter": m["fit_seconds"] / max(c["n_iter"], 1),
                  "train_nll": m["train"]["nll_nats"], "valid_nll": m["test"]["nll_nats"], "load": float(sys.argv[2])}))
PY
fi
echo "loadavg at end: $(cat /proc/loadavg)" | tee -a "$OUT_DIR/meta.txt" >&2

"$VENV_PY" - "$RESULTS" <<'PY'
import json, statistics as st, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
print(f"{'case':12} {'impl':8} {'EM s':>8} {'iters':>5} {'train LL':>12} {'test LL':>12} {'load':>5}")
for r in rows:
    if r["case"] == "bernoulli":
        continue
    print(f"{r['case']:12} {r['impl']:8} {r['fit_seconds']:8.2f} {r['n_iter']:5d} {r['train_ll']:12.4f} {r['test_ll']:12.4f} {r['load']:5.2f}")
for case in sorted({r["case"] for r in rows} - {"bernoulli"}):
    t = {i: st.median(r["fit_seconds"] for r in rows if r["case"] == case and r["impl"] == i) for i in ("elbo", "sklearn")}
    ll = {i: st.median(r["test_ll"] for r in rows if r["case"] == case and r["impl"] == i) for i in ("elbo", "sklearn")}
    print(f"{case}: scikit-learn / elbo time = {t['sklearn'] / t['elbo']:.2f}x; test LL elbo - sklearn = {ll['elbo'] - ll['sklearn']:+.2e} per image")
for r in rows:
    if r["case"] == "bernoulli":
        print(f"bernoulli: {r['n_iter']} iterations, {r['seconds_per_iter']:.2f} s/iteration, train NLL {r['train_nll']:.2f}, "
              f"validation NLL {r['valid_nll']:.2f} nats/image (load {r['load']:.2f})")
PY
