"""PyTorch reference for elbo's PixelCNN training step.

The same network as crates/elbo/src/models/pixel/pixelcnn.rs: a 7x7 mask-A
convolution to 2h maps, residual blocks (1x1 2h->h, kxk mask B, 1x1 h->2h),
ReLU -> 1x1 -> ReLU -> 1x1 to one Bernoulli logit per pixel. Masked kernels
keep only the rows up to the centre and pad the top, as elbo does.

Prints the mean seconds per Adam step (batch of binarized MNIST-sized
images) after a warm-up, for the given thread count:

    python bench/torch_pixelcnn.py --hidden 16 --layers 4 --batch 32 --threads 2
"""
import argparse
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class MaskedConv(nn.Conv2d):
    def __init__(self, cin, cout, k, kind):
        rows = k // 2 + 1
        super().__init__(cin, cout, (rows, k))
        mask = torch.ones(cout, cin, rows, k)
        mask[:, :, rows - 1, k // 2 + (1 if kind == "B" else 0):] = 0
        self.register_buffer("mask", mask)
        self.pad = (k // 2, k // 2, rows - 1, 0)

    def forward(self, x):
        return F.conv2d(F.pad(x, self.pad), self.weight * self.mask, self.bias)


class PixelCNN(nn.Module):
    def __init__(self, h, layers, kernel, out_hidden):
        super().__init__()
        self.input = MaskedConv(1, 2 * h, 7, "A")
        self.blocks = nn.ModuleList(
            nn.ModuleList([MaskedConv(2 * h, h, 1, "B"), MaskedConv(h, h, kernel, "B"), MaskedConv(h, 2 * h, 1, "B")])
            for _ in range(layers)
        )
        self.hidden = MaskedConv(2 * h, out_hidden, 1, "B")
        self.logits = MaskedConv(out_hidden, 1, 1, "B")

    def forward(self, x):
        s = self.input(x)
        for reduce, conv, expand in self.blocks:
            t = conv(F.relu(reduce(F.relu(s))))
            s = s + expand(F.relu(t))
        return self.logits(F.relu(self.hidden(F.relu(s))))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--hidden", type=int, default=16)
    p.add_argument("--layers", type=int, default=4)
    p.add_argument("--kernel", type=int, default=3)
    p.add_argument("--output-hidden", type=int, default=64)
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--size", type=int, default=28)
    p.add_argument("--steps", type=int, default=30)
    p.add_argument("--threads", type=int, default=2)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    net = PixelCNN(a.hidden, a.layers, a.kernel, a.output_hidden)
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    x = (torch.rand(a.batch, 1, a.size, a.size) < 0.13).float()

    def step():
        opt.zero_grad()
        loss = F.binary_cross_entropy_with_logits(net(x), x, reduction="sum") / a.batch
        loss.backward()
        opt.step()

    for _ in range(3):
        step()
    t = time.perf_counter()
    for _ in range(a.steps):
        step()
    dt = (time.perf_counter() - t) / a.steps
    print(f"torch {torch.__version__} threads {a.threads}: {dt:.4f} s/step "
          f"(batch {a.batch}, {a.size}x{a.size}, h {a.hidden}, {a.layers} blocks)")


if __name__ == "__main__":
    main()
