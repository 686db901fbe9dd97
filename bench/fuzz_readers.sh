#!/usr/bin/env bash
# Fuzzes every reader for MINUTES minutes each: the property-based suite in
# crates/elbo/tests/it/fuzz/ (generated and mutated IDX, amat, NPY, PNG/JPEG
# folders, config.toml, state.json, metrics.jsonl, safetensors), one test
# process per reader, looping fresh random rounds until its time is up.
#
# Usage: bench/fuzz_readers.sh [MINUTES]      (default 10 per reader)
#
# Prints one line per reader: cases run, crashes (a panic or a failed
# property fails the test: must be 0) and the peak RSS of the test process
# (GNU time's maximum resident set size). Exits non-zero if any reader crashed.
#
# Environment knobs (defaults in brackets):
#   READERS ["idx amat npy image_folders config_toml state_json metrics_jsonl safetensors"]
#   THREADS [1]  (RAYON_NUM_THREADS of the test process)
#   NICE [19]
#   OUT [bench/out/fuzz-<date>]  logs, one per reader
#   FUZZ_BIN [built by cargo]  the elbo integration test binary to run
set -euo pipefail
SCRIPT=fuzz_readers.sh
REPO_ROOT="$(cd "$(dirname "$0")/.." && pwd)"
die() { echo "$SCRIPT: $*" >&2; exit 1; }

MINUTES="${1:-10}"
[[ "$MINUTES" =~ ^[0-9]+$ ]] && [ "$MINUTES" -gt 0 ] || die "MINUTES must be a positive integer (got '$MINUTES')"
READERS="${READERS:-idx amat npy image_folders config_toml state_json metrics_jsonl safetensors}"
THREADS="${THREADS:-1}"
NICE="${NICE:-19}"
OUT="${OUT:-$REPO_ROOT/bench/out/fuzz-$(date -u +%Y%m%dT%H%M%SZ)}"
[ -x /usr/bin/time ] || die "/usr/bin/time (GNU time) is missing: apt-get install -y time"
mkdir -p "$OUT"

# Each reader's test, by a filter that names it alone.
filter() {
  case "$1" in
    idx) echo "fuzz::data_readers::idx_" ;;
    amat) echo "fuzz::data_readers::amat_" ;;
    npy) echo "fuzz::data_readers::npy_" ;;
    image_folders) echo "fuzz::data_readers::image_folders_" ;;
    config_toml) echo "fuzz::run_files::config_toml_" ;;
    state_json) echo "fuzz::run_files::state_json_" ;;
    metrics_jsonl) echo "fuzz::run_files::metrics_jsonl_" ;;
    safetensors) echo "fuzz::run_files::safetensors_" ;;
    *) die "unknown reader '$1'" ;;
  esac
}

if [ -z "${FUZZ_BIN:-}" ]; then
  echo "$SCRIPT: building the test binary (cargo test -p elbo --test it --no-run)" >&2
  FUZZ_BIN=$(cd "$REPO_ROOT" && cargo test -p elbo --test it --no-run --message-format=json 2>/dev/null \
    | python3 -c 'import json,sys
for l in sys.stdin:
    m = json.loads(l)
    if m.get("reason") == "compiler-artifact" and m.get("executable") and m["target"]["name"] == "it":
        print(m["executable"])' | tail -1)
fi
[ -x "$FUZZ_BIN" ] || die "could not build the elbo integration test binary"
# A copy, so that a rebuild during the run does not change the code under test.
BIN="$OUT/it-fuzz"
cp "$FUZZ_BIN" "$BIN"

printf '%-14s %10s %8s %14s %8s\n' reader cases crashes "peak RSS (MB)" seconds
failed=0
for r in $READERS; do
  log="$OUT/$r.log"
  start=$(date +%s)
  set +e
  ELBO_FUZZ_SECONDS=$((MINUTES * 60)) RAYON_NUM_THREADS="$THREADS" \
    nice -n "$NICE" /usr/bin/time -f 'maxrss_kb=%M' \
    "$BIN" "$(filter "$r")" --test-threads 1 --nocapture >"$log" 2>&1
  rc=$?
  set -e
  secs=$(( $(date +%s) - start ))
  # A failed test prints no count: "?" then, and the log holds proptest's minimal input.
  cases=$(grep -o 'fuzz [^:]*: [0-9]* cases' "$log" | awk '{print $3}' | tail -1 || true)
  rss=$(grep -o 'maxrss_kb=[0-9]*' "$log" | cut -d= -f2 | tail -1 || true)
  crashes=0
  if [ "$rc" != 0 ]; then crashes=1; failed=1; fi
  printf '%-14s %10s %8s %14s %8s\n' "$r" "${cases:-?}" "$crashes" "$(( ${rss:-0} / 1024 ))" "$secs"
done
echo "$SCRIPT: logs in $OUT" >&2
exit "$failed"
