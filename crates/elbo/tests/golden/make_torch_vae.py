"""Golden numbers for elbo's PyTorch interop test (crates/elbo/tests/it/interop.rs).

Builds the pytorch/examples VAE architecture (fc1, fc21, fc22, fc3, fc4; ReLU)
with small widths so the fixture stays small (784-32-4-32-784), initializes it
with a fixed seed, saves its state_dict as safetensors, and records for four
fixed images the per-image BCE + KL with z = mean (no sampling), in nats.

Run with the benchmark venv:  bench/.venv/bin/python crates/elbo/tests/golden/make_torch_vae.py
"""
import json
import os

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

HERE = os.path.dirname(os.path.abspath(__file__))


class VAE(nn.Module):
    def __init__(self, hidden=32, latent=4):
        super().__init__()
        self.fc1 = nn.Linear(784, hidden)
        self.fc21 = nn.Linear(hidden, latent)
        self.fc22 = nn.Linear(hidden, latent)
        self.fc3 = nn.Linear(latent, hidden)
        self.fc4 = nn.Linear(hidden, 784)

    def encode(self, x):
        h1 = F.relu(self.fc1(x))
        return self.fc21(h1), self.fc22(h1)

    def decode_logits(self, z):
        return self.fc4(F.relu(self.fc3(z)))


def images():
    # Four deterministic grey images in [0, 1] (same formula as the Rust test).
    i = np.arange(784, dtype=np.float64)
    return np.stack([((i * (k + 3)) % 97) / 96.0 for k in range(4)]).astype(np.float32)


def save_safetensors(path, tensors):
    # The safetensors format by hand (header length, JSON header, raw bytes),
    # so no extra package is needed.
    header, blobs, offset = {}, [], 0
    for name, t in tensors.items():
        data = t.detach().cpu().numpy().astype("<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(path, "wb") as f:
        f.write(len(text).to_bytes(8, "little"))
        f.write(text)
        for b in blobs:
            f.write(b)


def main():
    torch.manual_seed(1234)
    model = VAE()
    x = torch.from_numpy(images())
    with torch.no_grad():
        mu, logvar = model.encode(x)
        logits = model.decode_logits(mu)
        bce = F.binary_cross_entropy_with_logits(logits.double(), x.double(), reduction="none").sum(1)
        kld = -0.5 * torch.sum(1 + logvar.double() - mu.double().pow(2) - logvar.double().exp(), 1)
    save_safetensors(os.path.join(HERE, "torch_vae.safetensors"), model.state_dict())
    golden = {
        "torch": torch.__version__,
        "hidden": 32,
        "latent": 4,
        "bce_at_mean": bce.tolist(),
        "kl": kld.tolist(),
        "loss_at_mean": (bce + kld).tolist(),
    }
    with open(os.path.join(HERE, "torch_vae_golden.json"), "w") as f:
        json.dump(golden, f, indent=1)
    print(json.dumps(golden))


if __name__ == "__main__":
    main()
