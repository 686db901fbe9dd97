"""How well a VAE's latent means separate the MNIST classes (latent map).

Reads the means written by `elbo embed` for the train and test splits, fits a
15-nearest-neighbour classifier on the train means and reports its test
accuracy (chance: 10 %), the silhouette score of the test means by label, and
the per-class accuracy. Usage:

    elbo embed --model RUN --split train --out train.npy
    elbo embed --model RUN --out test.npy
    python bench/latent_knn.py train.npy test.npy MNIST_DIR
"""

import gzip
import sys

import numpy as np
from sklearn.metrics import silhouette_score
from sklearn.neighbors import KNeighborsClassifier


def idx_labels(path):
    with gzip.open(path) as f:
        return np.frombuffer(f.read(), np.uint8, offset=8)


def main(train_npy, test_npy, mnist):
    z_train = np.load(train_npy)[:, 0]  # [n, 2, latent] -> means [n, latent]
    z_test = np.load(test_npy)[:, 0]
    y_train = idx_labels(f"{mnist}/train-labels-idx1-ubyte.gz")
    y_test = idx_labels(f"{mnist}/t10k-labels-idx1-ubyte.gz")
    knn = KNeighborsClassifier(15).fit(z_train, y_train)
    pred = knn.predict(z_test)
    print(f"15-NN test accuracy on the latent means: {(pred == y_test).mean():.3f}")
    print(f"silhouette of the test means by label: {silhouette_score(z_test, y_test):.3f}")
    for k in range(10):
        print(f"  digit {k}: {(pred[y_test == k] == k).mean():.2f}")


if __name__ == "__main__":
    main(*sys.argv[1:4])
