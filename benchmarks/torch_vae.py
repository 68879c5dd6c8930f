#!/usr/bin/env python3
"""PyTorch reference for latent's dense VAE (examples/variational.cpp).

Same model, optimizer and schedule as `variational` with its defaults:
  encoder 784 -> 400 (ReLU) -> 2x20 (mu, logvar), decoder 20 -> 400 (ReLU) -> 784 logits,
  Bernoulli likelihood (BCE with logits summed over pixels), analytic Gaussian KL,
  loss = negative ELBO in nats per example (sum over pixels and latent dims, mean over the batch),
  Adam lr 1e-3, batch 128, 10 epochs, Fashion-MNIST pixels / 255 as Bernoulli targets.

Run it with Debian's torch (not a pyenv python):

  /usr/bin/python3 benchmarks/torch_vae.py --threads 1                  # train, print test -ELBO
  /usr/bin/python3 benchmarks/torch_vae.py --time-steps 300 --threads 1 # time training steps only

Training mode prints per-epoch train loss (recon, KL) and test -ELBO (one z draw per test image),
then an importance-weighted (IWAE, k samples) estimate of -log p(x) on the test set.
Timing mode trains on one fixed batch of 128 real images (or random ones with --synthetic)
and prints samples/s of the full step (zero_grad, forward, loss, backward, Adam step).
"""
import argparse
import gzip
import math
import os
import struct
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


def set_threads(n):
    """torch.set_num_threads, and the same for OpenBLAS: Debian's torch runs
    its GEMMs in OpenBLAS, whose thread pool ignores torch's setting."""
    import ctypes
    torch.set_num_threads(n)
    for lib in ("libopenblas.so.0", "libblas.so.3"):
        try:
            setter = ctypes.CDLL(lib).openblas_set_num_threads
        except (OSError, AttributeError):
            continue
        setter.argtypes = [ctypes.c_int]
        setter(n)
        return lib
    return None


def read_idx_images(path):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        magic, n, rows, cols = struct.unpack(">IIII", f.read(16))
        if magic != 2051:
            raise ValueError(f"{path}: expected IDX image magic 2051, found {magic}")
        data = np.frombuffer(f.read(), dtype=np.uint8)
    if data.size != n * rows * cols:
        raise ValueError(f"{path}: expected {n * rows * cols} pixels, found {data.size}")
    return data.reshape(n, rows * cols).astype(np.float32) / 255.0


def find(data_dir, stem):
    for name in (stem + ".gz", stem):
        p = os.path.join(data_dir, name)
        if os.path.exists(p):
            return p
    raise FileNotFoundError(f"{stem}(.gz) not found in {data_dir}")


class VAE(nn.Module):
    def __init__(self, d=784, h=400, z=20):
        super().__init__()
        self.fc1 = nn.Linear(d, h)
        self.fc2 = nn.Linear(h, 2 * z)  # mu = first z outputs, logvar = last z (as latent)
        self.fc3 = nn.Linear(z, h)
        self.fc4 = nn.Linear(h, d)
        self.z = z

    def encode(self, x):
        out = self.fc2(F.relu(self.fc1(x)))
        return out[:, : self.z], out[:, self.z :]

    def decode(self, z):
        return self.fc4(F.relu(self.fc3(z)))  # logits

    def forward(self, x):
        mu, logvar = self.encode(x)
        z = mu + torch.exp(0.5 * logvar) * torch.randn_like(mu)
        return self.decode(z), mu, logvar


def neg_elbo_parts(logits, x, mu, logvar):
    # per example: recon = sum_pixels BCE(logits, x); kl = -0.5 sum_j (1 + logvar - mu^2 - exp(logvar))
    recon = F.binary_cross_entropy_with_logits(logits, x, reduction="none").sum(1)
    kl = -0.5 * (1 + logvar - mu.pow(2) - logvar.exp()).sum(1)
    return recon, kl


@torch.no_grad()
def test_neg_elbo(model, x, batch=1000):
    model.eval()
    total = 0.0
    for s in range(0, x.shape[0], batch):
        xb = x[s : s + batch]
        logits, mu, logvar = model(xb)
        r, k = neg_elbo_parts(logits, xb, mu, logvar)
        total += (r + k).sum().item()
    model.train()
    return total / x.shape[0]


@torch.no_grad()
def test_iwae(model, x, k, batch=100):
    """-log p(x) estimate: -mean_x logsumexp_i [log p(x|z_i) + log p(z_i) - log q(z_i|x)] + log k."""
    model.eval()
    total = 0.0
    half_log_2pi = 0.5 * math.log(2 * math.pi)
    for s in range(0, x.shape[0], batch):
        xb = x[s : s + batch]
        mu, logvar = model.encode(xb)
        std = torch.exp(0.5 * logvar)
        eps = torch.randn(k, *mu.shape)
        z = mu + std * eps  # k x B x Z
        logits = model.decode(z.reshape(-1, model.z)).reshape(k, xb.shape[0], -1)
        log_px_z = -F.binary_cross_entropy_with_logits(logits, xb.expand(k, -1, -1), reduction="none").sum(2)
        log_pz = (-0.5 * z.pow(2) - half_log_2pi).sum(2)
        log_qz = (-0.5 * eps.pow(2) - 0.5 * logvar - half_log_2pi).sum(2)
        lw = log_px_z + log_pz - log_qz
        total += -(torch.logsumexp(lw, 0) - math.log(k)).sum().item()
    model.train()
    return total / x.shape[0]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default="/usr/share/datasets/fashion-mnist")
    ap.add_argument("--epochs", type=int, default=10)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--latent", type=int, default=20)
    ap.add_argument("--hidden", type=int, default=400)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--iwae-k", type=int, default=50)
    ap.add_argument("--time-steps", type=int, default=0, help="only time this many training steps (after warm-up)")
    ap.add_argument("--warmup", type=int, default=20)
    ap.add_argument("--synthetic", action="store_true", help="timing mode: random inputs instead of Fashion-MNIST")
    args = ap.parse_args()

    blas = set_threads(args.threads)
    torch.manual_seed(args.seed)
    model = VAE(784, args.hidden, args.latent)
    opt = torch.optim.Adam(model.parameters(), lr=args.lr)

    def step(xb):
        opt.zero_grad()
        logits, mu, logvar = model(xb)
        r, k = neg_elbo_parts(logits, xb, mu, logvar)
        loss = (r + k).mean()
        loss.backward()
        opt.step()
        return loss, r, k

    if args.time_steps > 0:
        if args.synthetic:
            xb = torch.rand(args.batch, 784)
        else:
            xb = torch.from_numpy(read_idx_images(find(args.data, "train-images-idx3-ubyte"))[: args.batch].copy())
        for _ in range(args.warmup):
            step(xb)
        t0, c0 = time.perf_counter(), time.process_time()
        for _ in range(args.time_steps):
            step(xb)
        dt, cpu = time.perf_counter() - t0, time.process_time() - c0
        print(f"torch {torch.__version__} threads {args.threads} (OpenBLAS threads set: {blas is not None}) batch {args.batch}: "
              f"{args.time_steps} steps in {dt:.3f} s, {dt / args.time_steps * 1e3:.3f} ms/step, "
              f"{args.time_steps * args.batch / dt:.0f} samples/s (wall clock); CPU time {cpu:.3f} s, "
              f"{cpu / args.time_steps * 1e3:.3f} CPU-ms/step")
        return

    train = torch.from_numpy(read_idx_images(find(args.data, "train-images-idx3-ubyte")))
    test = torch.from_numpy(read_idx_images(find(args.data, "t10k-images-idx3-ubyte")))
    n = train.shape[0]
    print(f"torch {torch.__version__}, threads {args.threads} (OpenBLAS threads set: {blas is not None}), "
          f"train {n}, test {test.shape[0]}")
    print(f"{'epoch':>5} {'recon':>9} {'kl':>8} {'train -ELBO':>12} {'test -ELBO':>11} {'samples/s':>10}")
    train_time = 0.0
    for epoch in range(1, args.epochs + 1):
        perm = torch.randperm(n)
        t0 = time.perf_counter()
        sr = sk = 0.0
        for s in range(0, n, args.batch):
            xb = train[perm[s : s + args.batch]]
            _, r, k = step(xb)
            sr += r.sum().item()
            sk += k.sum().item()
        dt = time.perf_counter() - t0
        train_time += dt
        te = test_neg_elbo(model, test)
        print(f"{epoch:>5} {sr / n:>9.3f} {sk / n:>8.3f} {(sr + sk) / n:>12.3f} {te:>11.3f} {n / dt:>10.0f}")
    te = test_neg_elbo(model, test)
    iw = test_iwae(model, test, args.iwae_k)
    print(f"test -ELBO {te:.3f} nats; IWAE (k={args.iwae_k}) -log p(x) estimate {iw:.3f} nats; "
          f"training {train_time:.1f} s ({args.epochs * n / train_time:.0f} samples/s)")


if __name__ == "__main__":
    main()
