#!/usr/bin/env python3
"""PyTorch reference for the elbo VAE benchmark.

A faithful port of the canonical pytorch/examples VAE
(https://github.com/pytorch/examples/blob/main/vae/main.py):

    fc1 784->400, ReLU, fc21/fc22 400->20 (mu, logvar),
    z = mu + eps * exp(0.5 * logvar),
    fc3 20->400, ReLU, fc4 400->784, sigmoid.
    loss = F.binary_cross_entropy(recon, x, reduction='sum')
           - 0.5 * sum(1 + logvar - mu^2 - exp(logvar))
    Adam(lr=1e-3), batch 128, training set reshuffled every epoch
    (last partial batch kept, as DataLoader(drop_last=False) does),
    pixels x = u8 / 255 (what transforms.ToTensor() yields).

Differences from the example, all on purpose:
  * MNIST is read straight from the IDX .gz files with gzip + numpy
    (no torchvision, no download) and held in memory as one float32 tensor;
    batches are gathered by index from a fresh permutation each epoch.
    This leaves out DataLoader overhead so the timing reflects the model.
  * Output is JSON lines on stdout (one per epoch, one final line).

Per-epoch line:
  {"impl":"pytorch","epoch":e,"train_loss":..,"test_loss":..,"epoch_seconds":..}
    train_loss    sum of the per-batch losses over the epoch / 60000
                  (the example's "Average loss").
    test_loss     sum of BCE+KLD over the 10k test images with one sampled z
                  per image, / 10000 (the example's "Test set loss").
    epoch_seconds wall time of the training loop only (no test evaluation,
                  no data loading).
Final line:
  {"impl":"pytorch","final_test_loss":..,"peak_rss_mb":..,...}
    peak_rss_mb   resource.getrusage(RUSAGE_SELF).ru_maxrss / 1024.
"""

import argparse
import gzip
import json
import os
import resource
import struct
import subprocess
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

IDX_FILES = {
    "train_images": "train-images-idx3-ubyte.gz",
    "train_labels": "train-labels-idx1-ubyte.gz",
    "test_images": "t10k-images-idx3-ubyte.gz",
    "test_labels": "t10k-labels-idx1-ubyte.gz",
}


def default_data_dir():
    here = os.path.dirname(os.path.abspath(__file__))
    try:
        top = subprocess.run(
            ["git", "-C", here, "rev-parse", "--show-toplevel"],
            check=True, capture_output=True, text=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        top = os.path.dirname(here)
    return os.path.normpath(os.path.join(top, "..", "shared", "data", "mnist"))


def read_idx_gz(path):
    """Read an IDX file (gzip-compressed) into a numpy array of its dtype."""
    with gzip.open(path, "rb") as f:
        raw = f.read()
    if len(raw) < 4:
        raise ValueError(f"{path}: too short for an IDX header")
    zero, dtype_code, ndim = struct.unpack(">HBB", raw[:4])
    if zero != 0 or dtype_code != 0x08:
        raise ValueError(f"{path}: not an unsigned-byte IDX file "
                         f"(magic {raw[:4].hex()})")
    header = 4 + 4 * ndim
    dims = struct.unpack(">" + "I" * ndim, raw[4:header])
    count = int(np.prod(dims))
    if len(raw) != header + count:
        raise ValueError(f"{path}: expected {header + count} bytes for dims "
                         f"{dims}, found {len(raw)}")
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(dims)


def load_images(data_dir, key, expect_n):
    arr = read_idx_gz(os.path.join(data_dir, IDX_FILES[key]))
    if arr.shape != (expect_n, 28, 28):
        raise ValueError(f"{IDX_FILES[key]}: shape {arr.shape}, "
                         f"expected ({expect_n}, 28, 28)")
    # grey pixels in [0, 1], exactly transforms.ToTensor(): u8 / 255
    x = torch.from_numpy(arr.reshape(expect_n, 784).copy()).to(torch.float32)
    return x.div_(255.0)


class VAE(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(784, 400)
        self.fc21 = nn.Linear(400, 20)
        self.fc22 = nn.Linear(400, 20)
        self.fc3 = nn.Linear(20, 400)
        self.fc4 = nn.Linear(400, 784)

    def encode(self, x):
        h1 = F.relu(self.fc1(x))
        return self.fc21(h1), self.fc22(h1)

    def reparameterize(self, mu, logvar):
        std = torch.exp(0.5 * logvar)
        eps = torch.randn_like(std)
        return mu + eps * std

    def decode(self, z):
        h3 = F.relu(self.fc3(z))
        return torch.sigmoid(self.fc4(h3))

    def forward(self, x):
        mu, logvar = self.encode(x.view(-1, 784))
        z = self.reparameterize(mu, logvar)
        return self.decode(z), mu, logvar


def loss_function(recon_x, x, mu, logvar):
    bce = F.binary_cross_entropy(recon_x, x.view(-1, 784), reduction="sum")
    kld = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())
    return bce + kld


def emit(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("data_dir", nargs="?", default=None,
                   help="directory with the four MNIST IDX .gz files "
                        "(default: $(git rev-parse --show-toplevel)/../shared/data/mnist)")
    p.add_argument("--data-dir", dest="data_dir_opt", metavar="DATA_DIR", default=None,
                   help="same as the positional DATA_DIR")
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--threads", type=int, default=2,
                   help="torch.set_num_threads(N) (default 2)")
    args = p.parse_args(argv)

    data_dir = args.data_dir_opt or args.data_dir or default_data_dir()
    for name in IDX_FILES.values():
        if not os.path.isfile(os.path.join(data_dir, name)):
            p.error(f"missing {name} in {data_dir}")

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)

    train_x = load_images(data_dir, "train_images", 60000)
    test_x = load_images(data_dir, "test_images", 10000)
    n_train, n_test = train_x.shape[0], test_x.shape[0]
    bs = args.batch_size

    model = VAE()
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr)

    test_loss = float("nan")
    for epoch in range(1, args.epochs + 1):
        # ---- training loop (timed) ----
        model.train()
        t0 = time.perf_counter()
        perm = torch.randperm(n_train)
        train_loss = 0.0
        for start in range(0, n_train, bs):
            data = train_x[perm[start:start + bs]]
            optimizer.zero_grad()
            recon_batch, mu, logvar = model(data)
            loss = loss_function(recon_batch, data, mu, logvar)
            loss.backward()
            train_loss += loss.item()
            optimizer.step()
        epoch_seconds = time.perf_counter() - t0

        # ---- test evaluation (not timed) ----
        model.eval()
        test_sum = 0.0
        with torch.no_grad():
            for start in range(0, n_test, bs):
                data = test_x[start:start + bs]
                recon_batch, mu, logvar = model(data)
                test_sum += loss_function(recon_batch, data, mu, logvar).item()
        test_loss = test_sum / n_test

        emit({"impl": "pytorch", "epoch": epoch,
              "train_loss": train_loss / n_train,
              "test_loss": test_loss,
              "epoch_seconds": epoch_seconds})

    peak_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    emit({"impl": "pytorch", "final_test_loss": test_loss,
          "peak_rss_mb": peak_rss_mb,
          "torch_version": torch.__version__,
          "threads": torch.get_num_threads(),
          "epochs": args.epochs, "batch_size": bs, "lr": args.lr,
          "seed": args.seed})
    return 0


if __name__ == "__main__":
    sys.exit(main())
