#!/usr/bin/env bash
# Create bench/.venv with the PyTorch reference's dependencies (pinned in
# bench/requirements.txt) and make sure GNU time (/usr/bin/time) is present.
#
# Usage: bench/setup.sh [--reinstall]
#   PYTHON=python3.11 bench/setup.sh   # pick the interpreter for the venv
#
# Idempotent: when the venv exists and every pin in requirements.txt is already
# installed, nothing is downloaded.
#
# About torch: PyPI has no CPU-only torch wheel for linux x86_64 (the "+cpu"
# builds are only on download.pytorch.org, which is not reachable from these
# machines). So this installs PyPI's regular torch wheel (CUDA 13.2 build) with
# its nvidia-* runtime packages: ~3 GB to download, ~5.6 GB on disk. It runs
# fine without a GPU; the benchmark only uses the CPU.
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
VENV="$BENCH_DIR/.venv"
REQ="$BENCH_DIR/requirements.txt"
PYTHON=${PYTHON:-python3}

reinstall=0
case "${1:-}" in
  --reinstall) reinstall=1 ;;
  "") ;;
  -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "${BASH_SOURCE[0]}"; exit 0 ;;
  *) echo "setup.sh: unknown argument: $1" >&2; exit 2 ;;
esac

# --- GNU time, used by vae_mnist.sh to measure peak RSS of both sides -------------
if [ ! -x /usr/bin/time ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "setup.sh: installing GNU time (apt-get install -y time)"
    apt-get install -y time >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y time; }
  else
    echo "setup.sh: /usr/bin/time is missing; install GNU time (e.g. 'sudo apt-get install -y time')" >&2
    exit 1
  fi
fi

# --- the venv ----------------------------------------------------------------------
if [ ! -x "$VENV/bin/python" ]; then
  echo "setup.sh: creating $VENV with $($PYTHON --version 2>&1)"
  "$PYTHON" -m venv "$VENV"
fi

pins_satisfied() {
  "$VENV/bin/python" - "$REQ" <<'EOF'
import re, sys
from importlib import metadata
missing = []
for line in open(sys.argv[1]):
    line = line.split("#", 1)[0].strip()
    if not line:
        continue
    m = re.fullmatch(r"([A-Za-z0-9_.\-]+)==([^\s;]+)", line)
    if not m:
        continue
    name, want = m.groups()
    try:
        have = metadata.version(name)
    except metadata.PackageNotFoundError:
        missing.append(f"{name} (not installed)")
        continue
    if have.split("+")[0] != want:
        missing.append(f"{name} {have} != {want}")
for m in missing[:5]:
    print("  needs:", m)
if len(missing) > 5:
    print(f"  ... and {len(missing) - 5} more")
sys.exit(1 if missing else 0)
EOF
}

if [ "$reinstall" = 0 ] && pins_satisfied >/dev/null 2>&1; then
  echo "setup.sh: $VENV already has everything pinned in requirements.txt; skipping pip"
else
  pins_satisfied || true
  echo "setup.sh: installing pinned packages (about 3 GB of wheels, mostly torch's CUDA libraries)"
  "$VENV/bin/python" -m pip install --disable-pip-version-check -r "$REQ"
  pins_satisfied
fi

"$VENV/bin/python" - <<'EOF'
import numpy, sklearn, torch
print(f"setup.sh: ok: torch {torch.__version__} (CUDA build {torch.version.cuda}, "
      f"GPU available: {torch.cuda.is_available()}), numpy {numpy.__version__}, "
      f"scikit-learn {sklearn.__version__}, CPU capability "
      f"{torch.backends.cpu.get_cpu_capability()}")
EOF
