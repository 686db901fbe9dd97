#!/usr/bin/env python3
"""PyTorch reference for the elbo IWAE benchmark.

Loads a VAE trained by `elbo train vae` (a run folder's model.safetensors),
rebuilds it in PyTorch and estimates -log p(x) on the first N MNIST test images
with the importance-weighted bound of Burda et al. (2016), K samples per image:

    z_k   = m + exp(logvar/2) * e_k,              e_k ~ N(0, I)
    log w_k = -BCE_with_logits(decode(z_k), x)    (summed over the 784 pixels)
              - 1/2 * sum_j (z_kj^2 - e_kj^2 - logvar_j)
                                     (= log p(z_k) - log q(z_k|x); the 2pi terms cancel)
    NLL   = -(logsumexp_k log w_k - log K)

The model is the pytorch/examples VAE (784-400-20-400-784, ReLU); the decoder
outputs Bernoulli logits; pixels are grey, x = u8/255. elbo stores linear weights
in burn's [in, out] layout, the transpose of nn.Linear's [out, in].

The safetensors file is parsed here with json + numpy (8-byte little-endian
header length, JSON header with dtype/shape/data_offsets, then the raw bytes),
so no extra package is needed.

Work is batched with bounded memory: images in chunks of --image-batch (100),
each image's K samples in chunks of --sample-batch (50), so one decoder call
takes a [100*50, 20] batch. The log weights of a chunk of images ([100, K]
floats) are kept and reduced with logsumexp at the end of the chunk.

Prints one JSON line:
  {"impl":"pytorch","k":K,"images":N,"nats":..,"std_error":..,"seconds":..,
   "samples_per_second":..,...}
    nats     mean IWAE NLL over the N images, nats per image
    std_error  standard deviation of the per-image NLLs / sqrt(N)
    seconds  wall time of the estimate only (the image loop below); loading
             torch, the model and MNIST is not included
    samples_per_second  N*K / seconds
"""

import argparse
import json
import math
import os
import resource
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

from torch_vae import IDX_FILES, VAE, default_data_dir, read_idx_gz

SAFETENSORS_DTYPES = {"F32": np.float32, "F64": np.float64, "F16": np.float16}

# elbo's tensor name -> (nn.Linear in torch_vae.VAE, weight or bias)
NAME_MAP = {
    "encoder.0": "fc1",
    "mean": "fc21",
    "log_var": "fc22",
    "decoder.0": "fc3",
    "output": "fc4",
}


def read_safetensors(path):
    """Read a .safetensors file into {name: numpy array}."""
    with open(path, "rb") as f:
        raw = f.read()
    if len(raw) < 8:
        raise ValueError(f"{path}: too short for a safetensors header")
    (header_len,) = np.frombuffer(raw[:8], dtype="<u8")
    header_len = int(header_len)
    if 8 + header_len > len(raw):
        raise ValueError(f"{path}: header length {header_len} runs past the file end")
    header = json.loads(raw[8:8 + header_len])
    data = memoryview(raw)[8 + header_len:]
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        dtype = SAFETENSORS_DTYPES.get(info["dtype"])
        if dtype is None:
            raise ValueError(f"{path}: {name}: unsupported dtype {info['dtype']}")
        begin, end = info["data_offsets"]
        shape = tuple(info["shape"])
        arr = np.frombuffer(data[begin:end], dtype=np.dtype(dtype).newbyteorder("<"))
        if arr.size != int(np.prod(shape)):
            raise ValueError(f"{path}: {name}: {arr.size} values for shape {shape}")
        out[name] = arr.reshape(shape).astype(np.float32)
    return out


def load_model(run_dir):
    """The run's VAE as torch_vae.VAE (eval mode), weights transposed from [in, out]."""
    tensors = read_safetensors(os.path.join(run_dir, "model.safetensors"))
    model = VAE()
    state = {}
    for src, dst in NAME_MAP.items():
        w = tensors.get(f"{src}.weight")
        b = tensors.get(f"{src}.bias")
        if w is None or b is None:
            raise ValueError(f"{run_dir}/model.safetensors lacks {src}.weight/.bias "
                             f"(has {sorted(tensors)}); not a 784-400-20 VAE run?")
        state[f"{dst}.weight"] = torch.from_numpy(np.ascontiguousarray(w.T))
        state[f"{dst}.bias"] = torch.from_numpy(b.copy())
    model.load_state_dict(state)  # checks every shape against 784-400-20-400-784
    return model.eval()


def iwae_nll(model, x, k, image_batch, sample_batch):
    """Per-image IWAE NLL (float64 tensor [N]) for images x [N, 784] in [0, 1]."""
    n = x.shape[0]
    out = torch.empty(n, dtype=torch.float64)
    for i0 in range(0, n, image_batch):
        xb = x[i0:i0 + image_batch]  # [B, 784]
        b = xb.shape[0]
        mu, logvar = model.encode(xb)  # [B, 20] each
        std = torch.exp(0.5 * logvar)
        log_w = torch.empty(b, k)  # [B, K]
        for s0 in range(0, k, sample_batch):
            s = min(sample_batch, k - s0)
            eps = torch.randn(b, s, mu.shape[1])  # [B, S, 20]
            z = mu.unsqueeze(1) + std.unsqueeze(1) * eps  # [B, S, 20]
            logits = model.fc4(F.relu(model.fc3(z)))  # [B, S, 784]
            log_px = -F.binary_cross_entropy_with_logits(
                logits, xb.unsqueeze(1).expand_as(logits), reduction="none").sum(-1)
            log_ratio = -0.5 * (z.square() - eps.square() - logvar.unsqueeze(1)).sum(-1)
            log_w[:, s0:s0 + s] = log_px + log_ratio
        out[i0:i0 + b] = math.log(k) - torch.logsumexp(log_w.double(), dim=1)
    return out


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("run_dir", help="run folder written by `elbo train vae` (holds model.safetensors)")
    p.add_argument("data_dir", nargs="?", default=None,
                   help="directory with t10k-images-idx3-ubyte.gz "
                        "(default: $(git rev-parse --show-toplevel)/../shared/data/mnist)")
    p.add_argument("--images", type=int, default=1000,
                   help="evaluate the first N test images (default 1000)")
    p.add_argument("--k", type=int, default=5000, help="importance samples per image (default 5000)")
    p.add_argument("--threads", type=int, default=2, help="torch.set_num_threads(N) (default 2)")
    p.add_argument("--seed", type=int, default=0, help="torch.manual_seed (default 0)")
    p.add_argument("--image-batch", type=int, default=100,
                   help="images per chunk (default 100)")
    p.add_argument("--sample-batch", type=int, default=50,
                   help="samples per image per decoder call (default 50)")
    args = p.parse_args(argv)
    for name in ("images", "k", "threads", "image_batch", "sample_batch"):
        if getattr(args, name) < 1:
            p.error(f"--{name.replace('_', '-')} must be positive")

    data_dir = args.data_dir or default_data_dir()
    test_path = os.path.join(data_dir, IDX_FILES["test_images"])
    if not os.path.isfile(test_path):
        p.error(f"missing {test_path}")
    if not os.path.isfile(os.path.join(args.run_dir, "model.safetensors")):
        p.error(f"no model.safetensors in {args.run_dir}")

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)

    model = load_model(args.run_dir)
    arr = read_idx_gz(test_path)
    if arr.ndim != 3 or arr.shape[1:] != (28, 28):
        p.error(f"{test_path}: shape {arr.shape}, expected (N, 28, 28)")
    if args.images > arr.shape[0]:
        p.error(f"--images {args.images} but {test_path} holds {arr.shape[0]} images")
    x = torch.from_numpy(arr[:args.images].reshape(args.images, 784).copy())
    x = x.to(torch.float32).div_(255.0)

    with torch.no_grad():
        t0 = time.perf_counter()
        nll = iwae_nll(model, x, args.k, args.image_batch, args.sample_batch)
        seconds = time.perf_counter() - t0

    n = args.images
    std_error = nll.std().item() / math.sqrt(n) if n > 1 else float("nan")
    print(json.dumps({
        "impl": "pytorch", "k": args.k, "images": n,
        "nats": nll.mean().item(), "std_error": std_error,
        "seconds": seconds, "samples_per_second": n * args.k / seconds,
        "threads": torch.get_num_threads(), "seed": args.seed,
        "image_batch": args.image_batch, "sample_batch": args.sample_batch,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0,
        "torch_version": torch.__version__,
    }), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
