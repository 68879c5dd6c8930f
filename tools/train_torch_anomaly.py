#!/usr/bin/python3
"""Trains the anomaly detector examples/from_pytorch loads: a dense
autoencoder 784-128-32-128-784 (ReLU, sigmoid output) in PyTorch on the
training images of one Fashion-MNIST class, then scores the full test set
by per-image mean squared reconstruction error, as latent's Autoencoder::
reconstruction_error does.

Writes, into --out (default out/from_pytorch):
  model.safetensors   the state_dict (encoder.0.weight, ...; tools/torch_safetensors.py)
  scores.npy          torch's 10,000 scores (float32)
  torch.json          torch's ROC AUC and the seconds it took to score 10,000 images

  OPENBLAS_NUM_THREADS=1 /usr/bin/python3 tools/train_torch_anomaly.py --class 0 --epochs 10
"""
import argparse
import gzip
import json
import os
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torch_safetensors import save_file  # noqa: E402


def idx(path):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        data = f.read()
    ndim = data[3]
    shape = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(shape)


def find(d, stem):
    for name in (stem, stem + ".gz"):
        if os.path.exists(os.path.join(d, name)):
            return os.path.join(d, name)
    raise SystemExit("%s: no %s[.gz]" % (d, stem))


def roc_auc(scores, positive):
    """P(score of an anomaly > score of a normal image) + 0.5 P(tie), by ranks."""
    order = np.argsort(scores, kind="mergesort")
    s = scores[order]
    ranks = np.empty(len(s))
    i = 0
    while i < len(s):  # average ranks over ties
        j = i
        while j + 1 < len(s) and s[j + 1] == s[i]:
            j += 1
        ranks[i:j + 1] = (i + j) / 2.0 + 1
        i = j + 1
    r = np.empty(len(s))
    r[order] = ranks
    npos, nneg = positive.sum(), (~positive).sum()
    return float((r[positive].sum() - npos * (npos + 1) / 2) / (npos * nneg))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default="/usr/share/datasets/fashion-mnist")
    ap.add_argument("--class", dest="cls", type=int, default=0, help="the normal class")
    ap.add_argument("--epochs", type=int, default=10)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--out", default="out/from_pytorch")
    a = ap.parse_args()
    torch.manual_seed(a.seed)
    torch.set_num_threads(a.threads)
    os.makedirs(a.out, exist_ok=True)

    train_x = idx(find(a.data, "train-images-idx3-ubyte")).reshape(-1, 784).astype(np.float32) / 255
    train_y = idx(find(a.data, "train-labels-idx1-ubyte"))
    test_x = idx(find(a.data, "t10k-images-idx3-ubyte")).reshape(-1, 784).astype(np.float32) / 255
    test_y = idx(find(a.data, "t10k-labels-idx1-ubyte"))
    normal = torch.from_numpy(train_x[train_y == a.cls])

    class AE(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.encoder = torch.nn.Sequential(torch.nn.Linear(784, 128), torch.nn.ReLU(), torch.nn.Linear(128, 32))
            self.decoder = torch.nn.Sequential(torch.nn.Linear(32, 128), torch.nn.ReLU(), torch.nn.Linear(128, 784),
                                               torch.nn.Sigmoid())

        def forward(self, x):
            return self.decoder(self.encoder(x))

    model = AE()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    for epoch in range(a.epochs):
        perm = torch.randperm(len(normal))
        total = 0.0
        for i in range(0, len(normal), a.batch):
            xb = normal[perm[i:i + a.batch]]
            opt.zero_grad()
            loss = torch.nn.functional.mse_loss(model(xb), xb)
            loss.backward()
            opt.step()
            total += loss.item() * len(xb)
        print("epoch %d  loss %.5f" % (epoch + 1, total / len(normal)), file=sys.stderr)

    model.eval()
    x = torch.from_numpy(test_x)
    with torch.no_grad():
        model(x[:256])  # warm-up
        t0 = time.perf_counter()
        scores = ((model(x) - x) ** 2).mean(dim=1).numpy()
        seconds = time.perf_counter() - t0
    auc = roc_auc(scores.astype(np.float64), test_y != a.cls)
    save_file(model.state_dict(), os.path.join(a.out, "model.safetensors"), {"normal_class": str(a.cls)})
    np.save(os.path.join(a.out, "scores.npy"), scores.astype(np.float32))
    with open(os.path.join(a.out, "torch.json"), "w") as f:
        json.dump({"normal_class": a.cls, "roc_auc": auc, "score_seconds": seconds, "images": len(test_x), "threads": a.threads,
                   "torch": torch.__version__}, f, indent=2)
    print("class %d: torch ROC AUC %.6f, scored %d images in %.4f s (%d thread%s)" %
          (a.cls, auc, len(test_x), seconds, a.threads, "" if a.threads == 1 else "s"))


if __name__ == "__main__":
    main()
