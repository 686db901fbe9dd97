"""PyTorch reference for elbo's PixelRNN training step: the Row LSTM and the
Diagonal BiLSTM (van den Oord et al. 2016, "Pixel Recurrent Neural
Networks", §3.1-3.2), grey images, Bernoulli pixels.

The same networks as crates/elbo/src/models/pixel/row_lstm.rs and
diagonal_bilstm.rs: a 7x7 mask-A convolution to h maps, residual recurrent
layers, ReLU -> 1x1 -> ReLU -> 1x1 to one logit per pixel. Masked kernels
keep only the rows up to the centre and pad the top, as elbo does; the LSTM
gate blocks are ordered i, f, o, g.

Timing (mean seconds per Adam step after a warm-up):

    python bench/torch_pixelrnn.py --layer diagonal-bilstm --hidden 16 --layers 2 --threads 1

Same weights, same loss: with --weights RUN/model.safetensors (an elbo run of
`elbo train pixelrnn`) and --images FILE.npy (uint8 [n, 28, 28], 0 or 255),
loads elbo's weights and prints the mean NLL per image in nats, to compare
with `elbo eval --model RUN` on the same images.
"""
import argparse
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class Conv(nn.Module):
    """A convolution with weight [cout, cin, kh, kw], zero padding `pad`
    (left, right, top, bottom) and an optional fixed mask over the weight;
    PyTorch's default init over the whole kernel, like elbo's."""

    def __init__(self, cin, cout, kh, kw, pad, mask=None):
        super().__init__()
        self.weight = nn.Parameter(torch.empty(cout, cin, kh, kw))
        self.bias = nn.Parameter(torch.empty(cout))
        bound = 1.0 / (cin * kh * kw) ** 0.5
        nn.init.uniform_(self.weight, -bound, bound)
        nn.init.uniform_(self.bias, -bound, bound)
        self.register_buffer("mask", torch.ones(cout, cin, kh, kw) if mask is None else mask)
        self.pad = pad

    def forward(self, x):
        return F.conv2d(F.pad(x, self.pad), self.weight * self.mask, self.bias)


def masked(cin, cout, kh, kw, kind):
    """elbo's grey mask: rows up to the centre kept, the centre row cut
    after the centre (mask B) or at it (mask A); the top padded."""
    rows = kh // 2 + 1
    mask = torch.ones(cout, cin, rows, kw)
    mask[:, :, rows - 1, kw // 2 + (1 if kind == "B" else 0):] = 0
    return Conv(cin, cout, rows, kw, (kw // 2, kw // 2, rows - 1, 0), mask)


def lstm_cell(pre, c):
    i, f, o, g = pre.chunk(4, 1)
    c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
    return torch.sigmoid(o) * torch.tanh(c), c


class RowLstmLayer(nn.Module):
    def __init__(self, h):
        super().__init__()
        self.input_to_state = masked(h, 4 * h, 1, 3, "B")
        self.state_to_state = Conv(h, 4 * h, 1, 3, (1, 1, 0, 0))

    def forward(self, x):
        b, ch, rows, w = x.shape
        s = self.input_to_state(x)
        h = x.new_zeros(b, ch, 1, w)
        c = x.new_zeros(b, ch, 1, w)
        out = []
        for r in range(rows):
            h, c = lstm_cell(s[:, :, r:r + 1] + self.state_to_state(h), c)
            out.append(h)
        return x + torch.cat(out, 2)


def skew(t):
    """Row i moved right by i: [b, c, H, W] -> [b, c, H, W + H - 1]."""
    b, c, h, w = t.shape
    t = F.pad(t, (0, h)).reshape(b, c, h * (w + h))
    return t[:, :, :h * (w + h - 1)].reshape(b, c, h, w + h - 1)


def unskew(t, w):
    b, c, h, ws = t.shape
    t = F.pad(t.reshape(b, c, h * ws), (0, h))
    return t.reshape(b, c, h, ws + 1)[..., :w]


class DiagonalLstm(nn.Module):
    def __init__(self, h):
        super().__init__()
        self.input_to_state = masked(h, 4 * h, 1, 1, "B")
        # 2x1 over the previous column: row 0 of the kernel reads the row above.
        self.state_to_state = Conv(h, 4 * h, 2, 1, (0, 0, 1, 0))

    def forward(self, x):
        b, ch, rows, w = x.shape
        s = skew(self.input_to_state(x))
        ws = s.shape[3]
        i = torch.arange(rows).view(rows, 1)
        k = torch.arange(ws).view(1, ws)
        inside = ((k >= i) & (k - i < w)).float().view(1, 1, rows, ws)
        h = x.new_zeros(b, ch, rows, 1)
        c = x.new_zeros(b, ch, rows, 1)
        out = []
        for col in range(ws):
            h, c = lstm_cell(s[..., col:col + 1] + self.state_to_state(h), c)
            keep = inside[..., col:col + 1]
            h, c = h * keep, c * keep
            out.append(h)
        return unskew(torch.cat(out, 3), w)


class DiagonalBiLstmLayer(nn.Module):
    def __init__(self, h):
        super().__init__()
        self.left = DiagonalLstm(h)
        self.right = DiagonalLstm(h)

    def forward(self, x):
        right = self.right(x.flip(3)).flip(3)
        right = F.pad(right, (0, 0, 1, 0))[:, :, :-1]  # shifted down one row
        return x + self.left(x) + right


class PixelRnn(nn.Module):
    def __init__(self, layer, h, layers, out_hidden):
        super().__init__()
        self.input = masked(1, h, 7, 7, "A")
        cls = DiagonalBiLstmLayer if layer == "diagonal-bilstm" else RowLstmLayer
        self.layers = nn.ModuleList(cls(h) for _ in range(layers))
        self.hidden = masked(h, out_hidden, 1, 1, "B")
        self.logits = masked(out_hidden, 1, 1, 1, "B")

    def forward(self, x):
        s = self.input(x)
        for layer in self.layers:
            s = layer(s)
        return self.logits(F.relu(self.hidden(F.relu(s))))


def load_elbo(net, path):
    """elbo's safetensors names (burn's module paths) onto this network."""
    from safetensors.torch import load_file

    tensors = load_file(path)
    own = dict(net.named_parameters())
    for name, t in tensors.items():
        # elbo: "layers.0.left.input_to_state.weight", "head.hidden.bias", ...
        key = name.removeprefix("head.")
        if key not in own:
            raise SystemExit(f"{path}: unexpected tensor {name}")
        with torch.no_grad():
            own[key].copy_(t.reshape(own[key].shape))
        del own[key]
    if own:
        raise SystemExit(f"{path}: missing {sorted(own)}")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--layer", choices=["row-lstm", "diagonal-bilstm"], default="diagonal-bilstm")
    p.add_argument("--hidden", type=int, default=16)
    p.add_argument("--layers", type=int, default=2)
    p.add_argument("--output-hidden", type=int, default=32)
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--size", type=int, default=28)
    p.add_argument("--steps", type=int, default=10)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--weights", help="an elbo run's model.safetensors")
    p.add_argument("--images", help="uint8 .npy [n, H, W] to evaluate with --weights")
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    net = PixelRnn(a.layer, a.hidden, a.layers, a.output_hidden)
    if a.weights:
        import numpy as np

        load_elbo(net, a.weights)
        x = torch.from_numpy((np.load(a.images) > 127).astype("float32")).unsqueeze(1)
        with torch.no_grad():
            nll = F.binary_cross_entropy_with_logits(net(x), x, reduction="sum") / x.shape[0]
        print(f"torch NLL: {nll.item():.6f} nats/image over {x.shape[0]} images")
        return
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    x = (torch.rand(a.batch, 1, a.size, a.size) < 0.13).float()

    def step():
        opt.zero_grad()
        loss = F.binary_cross_entropy_with_logits(net(x), x, reduction="sum") / a.batch
        loss.backward()
        opt.step()

    for _ in range(2):
        step()
    t = time.perf_counter()
    for _ in range(a.steps):
        step()
    dt = (time.perf_counter() - t) / a.steps
    print(f"torch {torch.__version__} threads {a.threads}: {dt:.4f} s/step "
          f"(batch {a.batch}, {a.size}x{a.size}, {a.layer}, h {a.hidden}, {a.layers} layers)")


if __name__ == "__main__":
    main()
