"""Independent check of elbo's mixture-of-Bernoullis NLL: reads the
run folder's model.safetensors with NumPy (no elbo code) and recomputes the
exact mean -log p(x) of a binarized-MNIST .amat.gz file.

Usage: bench/.venv/bin/python bench/check_bernoulli_nll.py RUN_DIR FILE.amat.gz
"""
import gzip
import json
import struct
import sys

import numpy as np


def load_safetensors(path):
    raw = open(path, "rb").read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8 : 8 + n])
    body = raw[8 + n :]
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        assert info["dtype"] == "F64", info
        s, e = info["data_offsets"]
        out[name] = np.frombuffer(body[s:e], dtype="<f8").reshape(info["shape"])
    return out


def main():
    run, data = sys.argv[1], sys.argv[2]
    t = load_safetensors(f"{run}/model.safetensors")
    w, p = t["weights"], t["probs"]  # [K], [K, D]
    with gzip.open(data, "rt") as f:
        x = np.array([[float(v) for v in line.split()] for line in f if line.strip()])
    p = np.clip(p, 1e-12, 1 - 1e-12)
    # log p(x | k) = x . log p + (1 - x) . log(1 - p): [N, K]
    lp = x @ np.log(p).T + (1 - x) @ np.log1p(-p).T + np.log(w)
    m = lp.max(axis=1, keepdims=True)
    ll = (m[:, 0] + np.log(np.exp(lp - m).sum(axis=1)))
    print(json.dumps({"images": len(x), "nll_nats": float(-ll.mean()),
                      "std_error": float(ll.std(ddof=1) / np.sqrt(len(x)))}))


if __name__ == "__main__":
    main()
