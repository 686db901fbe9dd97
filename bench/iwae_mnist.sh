#!/usr/bin/env bash
# elbo vs PyTorch: speed of the IWAE estimate of -log p(x) (Burda et al. 2016) for a
# trained VAE run folder, on the first IMAGES MNIST test images with K importance
# samples each; runs interleaved, then a summary (median samples/s and NLLs).
#
# Usage: bench/iwae_mnist.sh RUN_DIR [MNIST_DIR]
#   RUN_DIR     a run folder written by `elbo train vae` on MNIST with the
#               pytorch/examples model (784-400-20-400-784, grey pixels), e.g.
#               bench/out/vae_mnist-*/elbo/run-1. It is only read.
#   MNIST_DIR   directory with the four MNIST IDX .gz files
#               (default: $(git rev-parse --show-toplevel)/../shared/data/mnist)
#
# Environment knobs (defaults in brackets):
#   RUNS [3]            runs per implementation (interleaved: elbo then PyTorch on odd
#                       runs, the other way round on even runs)
#   K [5000]            importance samples per image
#   IMAGES [1000]       evaluate the first IMAGES of the 10k test images (both sides)
#   THREADS [2]         --threads for elbo, torch.set_num_threads for PyTorch
#   SEED_BASE [1]       run i uses seed SEED_BASE+i-1 on both sides (different RNGs:
#                       the seeds only make each side reproducible)
#   IMPLS ["elbo pytorch"]  which sides to run (e.g. IMPLS=pytorch)
#   ELBO_BIN [<repo>/target/release/elbo, or $CARGO_TARGET_DIR/release/elbo]
#   ELBO_BUILD [auto]   auto: `cargo build --release -p elbo-cli` only if ELBO_BIN is
#                       missing; always: run that build first anyway; never: don't build
#   OUT_DIR [bench/out/iwae_mnist-<timestamp>]   where the raw outputs go
#
# elbo's IWAE time is the wall time of `elbo eval --iwae K` minus that of the same
# `elbo eval` without --iwae (loading + one ELBO pass), run just before it.
# PyTorch's is timed inside torch_iwae.py around the estimate only.
#
# Needs bench/.venv (run bench/setup.sh once) and GNU time at /usr/bin/time.
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(git -C "$BENCH_DIR" rev-parse --show-toplevel 2>/dev/null || (cd "$BENCH_DIR/.." && pwd))

die() { echo "iwae_mnist.sh: error: $*" >&2; exit 1; }
SCRIPT=iwae_mnist.sh
# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

case "${1:-}" in -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "${BASH_SOURCE[0]}"; exit 0 ;; esac

[ $# -ge 1 ] && [ $# -le 2 ] || die "usage: bench/iwae_mnist.sh RUN_DIR [MNIST_DIR] (see --help)"
RUN_DIR=$1
DATA_DIR=${2:-$REPO_ROOT/../shared/data/mnist}
RUNS=${RUNS:-3}
K=${K:-5000}
IMAGES=${IMAGES:-1000}
THREADS=${THREADS:-2}
SEED_BASE=${SEED_BASE:-1}
IMPLS=${IMPLS:-elbo pytorch}
ELBO_BIN=${ELBO_BIN:-${CARGO_TARGET_DIR:-$REPO_ROOT/target}/release/elbo}
ELBO_BUILD=${ELBO_BUILD:-auto}
VENV_PY="$BENCH_DIR/.venv/bin/python"

for v in RUNS K IMAGES THREADS SEED_BASE; do
  [[ ${!v} =~ ^[0-9]+$ ]] && [ "${!v}" -ge 1 ] || die "$v must be a positive integer (got '${!v}')"
done
[ "$IMAGES" -le 10000 ] || die "IMAGES must be at most 10000 (the MNIST test set), got $IMAGES"
for impl in $IMPLS; do
  case "$impl" in elbo|pytorch) ;; *) die "IMPLS: unknown implementation '$impl'" ;; esac
done
want() { [[ " $IMPLS " == *" $1 "* ]]; }

# --- preconditions ---------------------------------------------------------------
[ -f "$RUN_DIR/model.safetensors" ] || die "no model.safetensors in $RUN_DIR (want a run folder of \`elbo train vae\`)"
RUN_DIR=$(cd "$RUN_DIR" && pwd)
[ -d "$DATA_DIR" ] || die "MNIST directory not found: $DATA_DIR
  pass it as the second argument: bench/iwae_mnist.sh RUN_DIR /path/to/mnist"
DATA_DIR=$(cd "$DATA_DIR" && pwd)
for f in train-images-idx3-ubyte.gz train-labels-idx1-ubyte.gz \
         t10k-images-idx3-ubyte.gz t10k-labels-idx1-ubyte.gz; do
  [ -f "$DATA_DIR/$f" ] || die "missing $DATA_DIR/$f (need the four MNIST IDX .gz files)"
done

# the venv's python is needed for the data subset and the summary too
[ -x "$VENV_PY" ] || die "no Python venv at $BENCH_DIR/.venv; run bench/setup.sh first"
if want pytorch; then
  "$VENV_PY" -c "import torch, numpy" 2>/dev/null \
    || die "torch/numpy not importable from $BENCH_DIR/.venv; run bench/setup.sh first"
fi

ensure_gnu_time
if want elbo; then ensure_elbo; fi

# --- output directory -------------------------------------------------------------
OUT_DIR=${OUT_DIR:-$BENCH_DIR/out/iwae_mnist-$(date +%Y%m%d-%H%M%S)}
mkdir -p "$OUT_DIR"
OUT_DIR=$(cd "$OUT_DIR" && pwd)
for impl in $IMPLS; do mkdir -p "$OUT_DIR/$impl"; done

# An MNIST directory whose test files hold only the first IMAGES test images (the
# training files are links to the real ones). Both sides read their test images
# from it: elbo evaluates a data set's whole test split, and for mnist:DIR that is
# exactly the t10k files, so this is how elbo gets the same IMAGES images.
SUB_DIR="$OUT_DIR/mnist-first-$IMAGES"
mkdir -p "$SUB_DIR"
"$VENV_PY" - "$DATA_DIR" "$SUB_DIR" "$IMAGES" <<'EOF'
import gzip, os, struct, sys
src, dst, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
for name, header, per_item in (("t10k-images-idx3-ubyte", 16, 784),
                               ("t10k-labels-idx1-ubyte", 8, 1)):
    with gzip.open(os.path.join(src, name + ".gz"), "rb") as f:
        raw = f.read()
    count = struct.unpack(">I", raw[4:8])[0]
    if count < n:
        sys.exit(f"{name}.gz holds {count} items, fewer than IMAGES={n}")
    out = bytearray(raw[:header])
    out[4:8] = struct.pack(">I", n)
    out += raw[header:header + n * per_item]
    with gzip.open(os.path.join(dst, name + ".gz"), "wb", compresslevel=1) as f:
        f.write(out)
for name in ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"):
    link = os.path.join(dst, name)
    if os.path.lexists(link):
        os.remove(link)
    os.symlink(os.path.join(src, name), link)
EOF

loadavg() { cut -d' ' -f1 /proc/loadavg; }

{
  echo "date: $(date -Is)"
  echo "host: $(hostname) nproc=$(nproc) cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')"
  echo "repo: $REPO_ROOT commit=$(GIT_OPTIONAL_LOCKS=0 git -C "$REPO_ROOT" rev-parse HEAD 2>/dev/null || echo '?')" \
       "tracked-changes=$(GIT_OPTIONAL_LOCKS=0 git -C "$REPO_ROOT" diff --quiet HEAD -- 2>/dev/null && echo no || echo yes)"
  echo "model: $RUN_DIR"
  echo "data: $DATA_DIR (first $IMAGES test images, in $SUB_DIR)"
  echo "recipe: k=$K images=$IMAGES threads=$THREADS runs=$RUNS seed_base=$SEED_BASE impls=$IMPLS"
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
  echo "iwae_mnist.sh: warning: 1-minute load average is $la; something else is using the CPU, timings will be noisy" >&2
fi

TIME_FMT='max_rss_kb=%M wall_s=%e user_s=%U sys_s=%S'

# timed NAME CMD...: run CMD under GNU time, stdout to NAME.json, stderr to NAME.stderr
timed() {
  local name=$1; shift
  local rc=0
  /usr/bin/time -f "$TIME_FMT" -o "$name.time" "$@" > "$name.json" 2> "$name.stderr" || rc=$?
  if [ "$rc" != 0 ]; then
    echo "iwae_mnist.sh: error: '$*' exited with status $rc; last lines of $name.stderr:" >&2
    tail -n 20 "$name.stderr" >&2 || true
    exit 1
  fi
  [ -s "$name.json" ] || die "'$*' printed nothing (see $name.stderr)"
}

# run_one IMPL RUN SEED ORDER
run_one() {
  local impl=$1 run=$2 seed=$3 order=$4
  local base="$OUT_DIR/$impl/run-$run"
  local la_start la_end
  la_start=$(loadavg)
  echo "iwae_mnist.sh: [$(date +%H:%M:%S)] $impl run $run/$RUNS (seed $seed, load $la_start)" >&2
  if [ "$impl" = elbo ]; then
    # the same command without --iwae first: its wall time is subtracted
    timed "$base-noiwae" "$ELBO_BIN" eval --model "$RUN_DIR" --data "mnist:$SUB_DIR" \
      --threads "$THREADS" --seed "$seed" --json
    timed "$base" "$ELBO_BIN" eval --model "$RUN_DIR" --data "mnist:$SUB_DIR" \
      --threads "$THREADS" --seed "$seed" --json --iwae "$K"
  else
    timed "$base" "$VENV_PY" "$BENCH_DIR/torch_iwae.py" "$RUN_DIR" "$SUB_DIR" \
      --images "$IMAGES" --k "$K" --threads "$THREADS" --seed "$seed"
  fi
  la_end=$(loadavg)
  printf '{"impl":"%s","run":%d,"seed":%d,"order":%d,"loadavg_start":%s,"loadavg_end":%s}\n' \
    "$impl" "$run" "$seed" "$order" "$la_start" "$la_end" > "$base.info"
  echo "iwae_mnist.sh:   $(cat "$base.time")" >&2
}

read -r -a impls_arr <<< "$IMPLS"
for ((i = 1; i <= RUNS; i++)); do
  seed=$((SEED_BASE + i - 1))
  if (( i % 2 == 1 )); then order=("${impls_arr[@]}"); else
    order=(); for ((j = ${#impls_arr[@]} - 1; j >= 0; j--)); do order+=("${impls_arr[j]}"); done
  fi
  n=0
  for impl in "${order[@]}"; do
    n=$((n + 1))
    run_one "$impl" "$i" "$seed" "$n"
  done
done

echo "loadavg at end: $(cat /proc/loadavg)" >> "$OUT_DIR/meta.txt"

# --- summary (standard library only) ------------------------------------------------
echo >&2
"$VENV_PY" - "$OUT_DIR" "$RUNS" "$K" "$IMAGES" <<'EOF' | tee "$OUT_DIR/summary.txt"
import json, os, re, statistics, sys

out_dir, runs, k, images = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])

def read_time(path):
    return {key: float(v) for key, v in re.findall(r"(\w+)=([0-9.]+)", open(path).read())}

def read_json(path):
    lines = [l for l in open(path).read().splitlines() if l.strip().startswith("{")]
    if not lines:
        sys.exit(f"{path}: no JSON line")
    return json.loads(lines[-1])

def med(vals):
    vals = [v for v in vals if v is not None]
    return statistics.median(vals) if vals else None

rows = {"elbo": [], "pytorch": []}
for impl in rows:
    for i in range(1, runs + 1):
        base = os.path.join(out_dir, impl, f"run-{i}")
        if not os.path.isfile(base + ".json"):
            continue
        info = json.load(open(base + ".info")) if os.path.isfile(base + ".info") else {}
        tm = read_time(base + ".time")
        j = read_json(base + ".json")
        if impl == "elbo":
            est = j["iwae"]
            base_tm = read_time(base + "-noiwae.time")
            seconds = tm["wall_s"] - base_tm["wall_s"]
            if seconds <= 0:
                print(f"warning: elbo run {i}: eval --iwae took no longer than eval "
                      f"({tm['wall_s']} s vs {base_tm['wall_s']} s); K too small to time",
                      file=sys.stderr)
                seconds = None
            extra = base_tm["wall_s"]
        else:
            est = j
            seconds = j["seconds"]
            extra = None
        if est["k"] != k or est["images"] != images:
            sys.exit(f"{base}.json: k={est['k']} images={est['images']}, expected k={k} images={images}")
        rows[impl].append({
            "run": i, "seed": info.get("seed"), "order": info.get("order"),
            "loadavg_start": info.get("loadavg_start"), "loadavg_end": info.get("loadavg_end"),
            "nats": est["nats"], "std_error": est.get("std_error"),
            "seconds": seconds,
            "samples_per_second": images * k / seconds if seconds else None,
            "process_wall_seconds": tm["wall_s"],
            "process_cpu_seconds": tm["user_s"] + tm["sys_s"],
            "peak_rss_mb": tm["max_rss_kb"] / 1024.0,
            "elbo_eval_without_iwae_seconds": extra,
        })

agg = {impl: {key: med(r[key] for r in rs) for key in
              ("samples_per_second", "seconds", "nats", "std_error", "process_wall_seconds",
               "process_cpu_seconds", "peak_rss_mb")} if rs else None
       for impl, rs in rows.items()}
e, t = agg["elbo"] or {}, agg["pytorch"] or {}

def fmt(v, spec, width=12):
    return ("n/a" if v is None else format(v, spec)).rjust(width)

def ratio(a, b):
    return a / b if a is not None and b else None

print(f"IWAE on MNIST, elbo vs PyTorch: K={k}, first {images} test images, "
      f"runs elbo={len(rows['elbo'])} pytorch={len(rows['pytorch'])}")
print()
print(f"{'':40s}{'elbo':>12s}{'pytorch':>12s}{'elbo/pytorch':>14s}")
def row(label, key, spec, show_ratio=True):
    a, b = e.get(key), t.get(key)
    r = ratio(a, b) if show_ratio else None
    rt = (format(r, ".3f") + "x").rjust(14) if r is not None else "".rjust(14)
    print(f"{label:40s}{fmt(a, spec)}{fmt(b, spec)}{rt}")
row("samples/s (images*K/s), median", "samples_per_second", ",.0f")
row("IWAE seconds, median", "seconds", ".2f")
row("IWAE NLL (nats/image), median", "nats", ".3f", False)
row("  its standard error", "std_error", ".3f", False)
a, b = e.get("nats"), t.get("nats")
if a is not None and b is not None:
    print(f"{'NLL diff, elbo - pytorch (nats)':40s}{fmt(a - b, '+.3f')}")
row("whole process wall seconds, median", "process_wall_seconds", ".2f")
row("whole process CPU seconds, median", "process_cpu_seconds", ".2f")
row("peak RSS MB (/usr/bin/time %M), median", "peak_rss_mb", ".1f")
print()
print("samples/s: elbo/pytorch above 1 means elbo is faster. elbo's IWAE seconds are")
print("wall(eval --iwae K) - wall(eval); PyTorch's are timed in-process around the estimate.")
print()
print("per run:")
print(f"  {'impl':8s}{'run':>4s}{'seed':>5s}{'order':>6s}{'IWAE s':>9s}{'samples/s':>11s}"
      f"{'NLL':>9s}{'wall s':>8s}{'eval s':>8s}{'load@start':>11s}{'load@end':>9s}")
for impl, rs in rows.items():
    for r in rs:
        print(f"  {impl:8s}{r['run']:>4d}{str(r['seed']):>5s}{str(r['order']):>6s}"
              f"{fmt(r['seconds'], '.2f', 9)}{fmt(r['samples_per_second'], ',.0f', 11)}"
              f"{fmt(r['nats'], '.3f', 9)}{fmt(r['process_wall_seconds'], '.2f', 8)}"
              f"{fmt(r['elbo_eval_without_iwae_seconds'], '.2f', 8)}"
              f"{str(r['loadavg_start']):>11s}{str(r['loadavg_end']):>9s}")

with open(os.path.join(out_dir, "summary.json"), "w") as f:
    json.dump({"k": k, "images": images, "elbo": agg["elbo"], "pytorch": agg["pytorch"],
               "ratio_samples_per_second_elbo_over_pytorch":
                   ratio(e.get("samples_per_second"), t.get("samples_per_second")),
               "nll_diff_elbo_minus_pytorch": a - b if a is not None and b is not None else None,
               "runs": rows}, f, indent=2)
    f.write("\n")
EOF
echo
echo "raw outputs: $OUT_DIR"
