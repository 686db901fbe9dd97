#!/usr/bin/env python3
"""Builds digits.bin.gz, the data set elbo embeds as its default (`--data digits`).

Source: the UCI ML "Optical Recognition of Handwritten Digits" test set
(E. Alpaydin and C. Kaynak, 1998; CC BY 4.0), as shipped by scikit-learn in
`sklearn/datasets/data/digits.csv.gz`.

The copy used was taken from the scikit-learn 1.9.1 wheel
    scikit_learn-1.9.1-cp311-cp311-manylinux_2_27_x86_64.manylinux_2_28_x86_64.whl
    (sha256 52a0703bbc07ad27f560fa63fa68e4c54dd735bfbbf65b4dd3c225dc7547b6df)
obtained with `pip download scikit-learn==1.9.1 --no-deps`; the member
    sklearn/datasets/data/digits.csv.gz
has sha256 09f66e6debdee2cd2b5ae59e0d6abbb73fc2b0e0185d2e1957e9ebb51e23aa22.

digits.csv.gz holds 1,797 lines of 65 comma-separated integers: 64 pixels of an
8x8 image (row-major, values 0..16) followed by the class label 0..9.

Output format (read by crates/elbo/src/data/digits.rs): gzip of
    1797 * 64 bytes of pixels (u8, 0..16, image-major, row-major)
    followed by 1797 bytes of labels (u8, 0..9).
The gzip header carries no file name and mtime 0, so the output is reproducible.

Usage: python3 make_digits.py path/to/digits.csv.gz [out=digits.bin.gz]
"""

import gzip
import hashlib
import sys

EXPECTED_SHA256 = "09f66e6debdee2cd2b5ae59e0d6abbb73fc2b0e0185d2e1957e9ebb51e23aa22"
N_IMAGES = 1797
N_PIXELS = 64


def main() -> None:
    src = sys.argv[1] if len(sys.argv) > 1 else "digits.csv.gz"
    out = sys.argv[2] if len(sys.argv) > 2 else "digits.bin.gz"
    raw = open(src, "rb").read()
    digest = hashlib.sha256(raw).hexdigest()
    if digest != EXPECTED_SHA256:
        sys.exit(f"{src}: sha256 {digest}, expected {EXPECTED_SHA256}")
    pixels = bytearray()
    labels = bytearray()
    for lineno, line in enumerate(gzip.decompress(raw).decode("ascii").splitlines(), 1):
        if not line.strip():
            continue
        values = [int(float(v)) for v in line.split(",")]
        if len(values) != N_PIXELS + 1:
            sys.exit(f"{src}: line {lineno} has {len(values)} values, expected 65")
        if not all(0 <= v <= 16 for v in values[:N_PIXELS]) or not 0 <= values[-1] <= 9:
            sys.exit(f"{src}: line {lineno} has a value out of range")
        pixels.extend(values[:N_PIXELS])
        labels.append(values[-1])
    if len(labels) != N_IMAGES:
        sys.exit(f"{src}: {len(labels)} images, expected {N_IMAGES}")
    with open(out, "wb") as f:
        with gzip.GzipFile(filename="", mode="wb", fileobj=f, compresslevel=9, mtime=0) as gz:
            gz.write(bytes(pixels) + bytes(labels))
    print(f"wrote {out}: {N_IMAGES} images, sha256 {hashlib.sha256(open(out, 'rb').read()).hexdigest()}")


if __name__ == "__main__":
    main()
