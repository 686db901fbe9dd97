"""PyTorch reference for elbo's pixel models' training step (--model).

pixelcnn: the same network as crates/elbo/src/models/pixel/pixelcnn.rs: a
7x7 mask-A convolution to 2h maps, residual blocks (1x1 2h->h, kxk mask B,
1x1 h->2h), ReLU -> 1x1 -> ReLU -> 1x1 to one Bernoulli logit per pixel.
Masked kernels keep only the rows up to the centre and pad the top, as elbo
does.

gated: models/pixel/gated.rs: per layer a vertical (k/2+1)xk convolution and
a horizontal 1xk one (mask A in the first layer, B after), the vertical
pre-activation shifted down a row into the horizontal stack through a 1x1,
tanh(a)*sigmoid(b) gates, a 1x1 on the horizontal output, residual after
the first layer; the same output head on h maps.

rowlstm: models/pixel/row_lstm.rs: a 7x7 mask-A convolution to h maps, then
per layer a 1x3 mask-B input-to-state convolution (h -> 4h, all rows at
once) and, row by row, a 1x3 state-to-state convolution of the previous
row's h, the LSTM cell (gate blocks i, f, o, g), residual; the same head.

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


class RowMaskedConv(nn.Conv2d):
    """1xk over the current row: taps left of the centre, and the centre for mask B."""

    def __init__(self, cin, cout, k, kind):
        super().__init__(cin, cout, (1, k))
        mask = torch.ones(cout, cin, 1, k)
        mask[:, :, 0, k // 2 + (1 if kind == "B" else 0):] = 0
        self.register_buffer("mask", mask)
        self.pad = (k // 2, k // 2, 0, 0)

    def forward(self, x):
        return F.conv2d(F.pad(x, self.pad), self.weight * self.mask, self.bias)


def head(h, out_hidden):
    return nn.ModuleList([nn.Conv2d(h, out_hidden, 1), nn.Conv2d(out_hidden, 1, 1)])


def run_head(layers, s):
    hidden, logits = layers
    return logits(F.relu(hidden(F.relu(s))))


def gate(pre):
    a, b = pre.chunk(2, dim=1)
    return torch.tanh(a) * torch.sigmoid(b)


class GatedPixelCNN(nn.Module):
    def __init__(self, h, layers, kernel, out_hidden):
        super().__init__()
        k, rows = kernel, kernel // 2 + 1
        self.vpad = (k // 2, k // 2, k // 2, 0)
        self.layers = nn.ModuleList(
            nn.ModuleList([
                nn.Conv2d(1 if l == 0 else h, 2 * h, (rows, k)),
                RowMaskedConv(1 if l == 0 else h, 2 * h, k, "A" if l == 0 else "B"),
                nn.Conv2d(2 * h, 2 * h, 1),
                nn.Conv2d(h, h, 1),
            ])
            for l in range(layers)
        )
        self.head = head(h, out_hidden)

    def forward(self, x):
        v, hs = x, x
        for l, (vconv, hconv, link, hout) in enumerate(self.layers):
            vpre = vconv(F.pad(v, self.vpad))
            shifted = F.pad(vpre, (0, 0, 1, 0))[:, :, :-1, :]
            hnew = hout(gate(hconv(hs) + link(shifted)))
            hs = hs + hnew if l > 0 else hnew
            v = gate(vpre)
        return run_head(self.head, hs)


class RowLSTM(nn.Module):
    def __init__(self, h, layers, kernel, out_hidden):
        super().__init__()
        self.h = h
        self.input = MaskedConv(1, h, 7, "A")
        self.layers = nn.ModuleList(
            nn.ModuleList([RowMaskedConv(h, 4 * h, 3, "B"), nn.Conv2d(h, 4 * h, (1, 3), padding=(0, 1))])
            for _ in range(layers)
        )
        self.head = head(h, out_hidden)

    def forward(self, x):
        s = self.input(x)
        b, _, rows, w = s.shape
        for input_to_state, state_to_state in self.layers:
            pre_all = input_to_state(s)
            hh = s.new_zeros(b, self.h, 1, w)
            c = s.new_zeros(b, self.h, 1, w)
            out = []
            for r in range(rows):
                pre = pre_all[:, :, r:r + 1, :] + state_to_state(hh)
                i, f, o, g = pre.chunk(4, dim=1)
                c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
                hh = torch.sigmoid(o) * torch.tanh(c)
                out.append(hh)
            s = s + torch.cat(out, dim=2)
        return run_head(self.head, s)


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
    p.add_argument("--model", choices=["pixelcnn", "gated", "rowlstm"], default="pixelcnn")
    p.add_argument("--hidden", type=int, default=16)
    p.add_argument("--layers", type=int, default=4)
    p.add_argument("--kernel", type=int, default=3)
    p.add_argument("--output-hidden", type=int, default=64)
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--size", type=int, default=28)
    p.add_argument("--steps", type=int, default=30)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--clock", choices=["wall", "cpu"], default="wall",
                   help="wall: elapsed seconds; cpu: the process's CPU seconds (steadier on a loaded machine)")
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    model = {"pixelcnn": PixelCNN, "gated": GatedPixelCNN, "rowlstm": RowLSTM}[a.model]
    net = model(a.hidden, a.layers, a.kernel, a.output_hidden)
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    x = (torch.rand(a.batch, 1, a.size, a.size) < 0.13).float()

    def step():
        opt.zero_grad()
        loss = F.binary_cross_entropy_with_logits(net(x), x, reduction="sum") / a.batch
        loss.backward()
        opt.step()

    for _ in range(3):
        step()
    clock = time.perf_counter if a.clock == "wall" else time.process_time
    t = clock()
    for _ in range(a.steps):
        step()
    dt = (clock() - t) / a.steps
    print(f"torch {torch.__version__} {a.model} threads {a.threads}: {dt:.4f} s/step "
          f"(batch {a.batch}, {a.size}x{a.size}, h {a.hidden}, {a.layers} blocks)")


if __name__ == "__main__":
    main()
