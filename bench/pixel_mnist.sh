#!/usr/bin/env bash
# PixelCNN / Gated PixelCNN / Row LSTM on statically
# binarized MNIST (../shared/data/binarized_mnist by default), 2 threads.
#
#   bench/pixel_mnist.sh [DATA_DIR] [EPOCHS]
#
# 1. seconds per training step of each model (one epoch on a 3,520-image
#    subset written as .npy; no test split of its own, 10% held out);
# 2. EPOCHS epochs of PixelCNN on the full 50,000 / 10,000 split: validation
#    NLL per epoch (metrics.jsonl) and wall time;
# 3. 64 samples naive vs fast from that model: time and identical PNGs;
# 4. the same PixelCNN training step in PyTorch (bench/torch_pixelcnn.py).
set -euo pipefail
SCRIPT=pixel_mnist
REPO_ROOT=$(cd "$(dirname "$0")/.." && pwd)
DATA=${1:-$REPO_ROOT/../shared/data/binarized_mnist}
EPOCHS=${2:-2}
ELBO_BIN=${ELBO_BIN:-$REPO_ROOT/target/release/elbo}
PY=${PY:-/work/main/bench/.venv/bin/python}
OUT=${OUT:-/tmp/elbo_pixel_bench}
SIZE=(--hidden 16 --layers 4 --output-hidden 32 --batch-size 32 --threads 2)
mkdir -p "$OUT"
uptime
"$PY" - "$DATA" "$OUT/sub.npy" <<'PYEOF'
import gzip, sys, numpy as np
rows = []
with gzip.open(sys.argv[1] + "/binarized_mnist_train.amat.gz", "rt") as f:
    for i, line in enumerate(f):
        if i >= 3520:
            break
        rows.append([int(v) for v in line.split()])
np.save(sys.argv[2], (np.array(rows, dtype=np.uint8) * 255).reshape(-1, 28, 28))
PYEOF
for kind in pixelcnn gated-pixelcnn pixelrnn; do
  "$ELBO_BIN" train "$kind" --data "npy:$OUT/sub.npy" --epochs 1 "${SIZE[@]}" \
    --quiet --no-pictures --force --out "$OUT/step-$kind"
  "$PY" -c "import json,sys; m=json.loads(open(sys.argv[1]).readline()); print(sys.argv[2], round(m['epoch_seconds']/99, 4), 's/step', round(m['epoch_seconds']/99*1563), 's per 50k epoch (est.)')" \
    "$OUT/step-$kind/metrics.jsonl" "$kind"
done
uptime
/usr/bin/time -f "pixelcnn training wall %e s" "$ELBO_BIN" train pixelcnn \
  --data "amat:$DATA/binarized_mnist_train.amat.gz" --epochs "$EPOCHS" "${SIZE[@]}" \
  --no-pictures --force --out "$OUT/pixelcnn"
cat "$OUT/pixelcnn/metrics.jsonl"
for m in fast naive; do
  "$ELBO_BIN" --threads 2 sample --model "$OUT/pixelcnn" -n 64 --seed 0 "--$m" --out "$OUT/$m.png"
done
cmp "$OUT/fast.png" "$OUT/naive.png" && echo "fast and naive samples are identical"
"$PY" "$REPO_ROOT/bench/torch_pixelcnn.py" --hidden 16 --layers 4 --output-hidden 32 --batch 32 --threads 2
uptime
