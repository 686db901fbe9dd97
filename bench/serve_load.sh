#!/usr/bin/env bash
# A bounded load test of `elbo serve`: train (or take) an MNIST MLP VAE, serve
# it on 127.0.0.1 (port 0), send REQUESTS decode requests (one code each) from
# CLIENTS concurrent keep-alive clients (crates/elbo/examples/serve_load.rs),
# and report throughput, p50/p99 latency, errors and the server's RSS before
# and after. Prints one JSON line per phase; exits non-zero on any error.
#
# Usage: bench/serve_load.sh [MNIST_DIR]
#   MNIST_DIR   the four MNIST IDX .gz files (default: <repo>/../shared/data/mnist)
#
# Environment knobs (defaults in brackets):
#   RUN [$OUT_DIR/vae]   an existing VAE run to serve instead of training one
#   EPOCHS [1]           epochs of the VAE trained when RUN is not given (the
#                        pytorch/examples architecture: MLP [400], latent 20)
#   REQUESTS [10000]  CLIENTS [8]  THREADS [2] (--threads of the server)
#   PROFILE [release]    cargo profile of the server and the client (release or dev)
#   OUT_DIR [bench/out/serve_load-<timestamp>]
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(git -C "$BENCH_DIR" rev-parse --show-toplevel 2>/dev/null || (cd "$BENCH_DIR/.." && pwd))
die() { echo "serve_load.sh: error: $*" >&2; exit 1; }

MNIST=${1:-$REPO_ROOT/../shared/data/mnist}
REQUESTS=${REQUESTS:-10000}
CLIENTS=${CLIENTS:-8}
THREADS=${THREADS:-2}
EPOCHS=${EPOCHS:-1}
PROFILE=${PROFILE:-release}
OUT_DIR=${OUT_DIR:-$BENCH_DIR/out/serve_load-$(date +%Y%m%d-%H%M%S)}
TARGET=${CARGO_TARGET_DIR:-$REPO_ROOT/target}
mkdir -p "$OUT_DIR"

flag=(--release); dir=release
[ "$PROFILE" = dev ] && { flag=(); dir=debug; }
# --workspace: features unify as in every other build (with -p alone cargo
# resolves other features of shared crates and rebuilds burn).
(cd "$REPO_ROOT" && cargo build "${flag[@]}" --workspace --bin elbo --example serve_load) \
  || die "cargo build failed"
ELBO=$TARGET/$dir/elbo
CLIENT=$TARGET/$dir/examples/serve_load

RUN=${RUN:-}
if [ -z "$RUN" ]; then
  [ -d "$MNIST" ] || die "MNIST not found at $MNIST (give MNIST_DIR or RUN)"
  RUN=$OUT_DIR/vae
  "$ELBO" train vae --data "mnist:$MNIST" --epochs "$EPOCHS" --threads "$THREADS" \
    --out "$RUN" --quiet --no-pictures
fi
LATENT=$(sed -n 's/^latent *= *\([0-9]*\).*/\1/p' "$RUN/config.toml" | head -1)
[ -n "$LATENT" ] || die "no latent size in $RUN/config.toml"

"$ELBO" serve --model "$RUN" --port 0 --threads "$THREADS" >"$OUT_DIR/server.out" 2>"$OUT_DIR/server.err" &
SERVER=$!
trap 'kill -INT $SERVER 2>/dev/null || true' EXIT
for _ in $(seq 600); do
  grep -q 'serving on' "$OUT_DIR/server.out" 2>/dev/null && break
  kill -0 $SERVER 2>/dev/null || die "the server exited: $(cat "$OUT_DIR/server.err")"
  sleep 0.1
done
ADDR=$(sed -n 's|.*http://\([^/]*\)/.*|\1|p' "$OUT_DIR/server.out" | head -1)
[ -n "$ADDR" ] || die "the server did not print its address"
rss() { awk '/^VmRSS/ {print $2}' "/proc/$SERVER/status"; }

# A short warm-up (first decodes allocate the backend's buffers), then the run.
"$CLIENT" "$ADDR" 0 "$LATENT" 200 "$CLIENTS" >/dev/null
RSS_BEFORE=$(rss)
RESULT=$("$CLIENT" "$ADDR" 0 "$LATENT" "$REQUESTS" "$CLIENTS")
RSS_AFTER=$(rss)
# The same again: growth that repeats is a leak, growth once is warm-up.
AGAIN=$("$CLIENT" "$ADDR" 0 "$LATENT" "$REQUESTS" "$CLIENTS")
RSS_AGAIN=$(rss)
# One client alone: the latency of a single request with nothing queued.
SINGLE=$("$CLIENT" "$ADDR" 0 "$LATENT" 1000 1)
echo "load:   $RESULT"
echo "again:  $AGAIN"
echo "single: $SINGLE"
echo "server RSS: ${RSS_BEFORE} kB before, ${RSS_AFTER} kB after, ${RSS_AGAIN} kB after the second round ($PROFILE build, --threads $THREADS, $(nproc) cores, load average $(cut -d' ' -f1 /proc/loadavg))"
for r in "$RESULT" "$AGAIN"; do echo "$r" | grep -q '"errors": 0,' || die "requests failed"; done
kill -INT $SERVER
wait $SERVER || die "the server did not stop cleanly on SIGINT"
trap - EXIT
grep -q stopped "$OUT_DIR/server.err" || die "the server did not say it stopped"
