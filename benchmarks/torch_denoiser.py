#!/usr/bin/python3
"""PyTorch reference for benchmarks/bench_conv.cpp: one training step of the
denoising autoencoder of examples/denoising.cpp (batch 64, Adam, MSE), the
same architecture and initialization scheme, on 1 and 2 threads.

Run with Debian's python3-torch (not a pyenv python):
    /usr/bin/python3 benchmarks/torch_denoiser.py [--steps 30] [--threads 1,2]

Prints samples/s and GFLOP/s (2 FLOPs per multiply-add of the convolutions'
forward, weight and input gradients, as bench_conv counts them).
"""
import argparse
import time

import torch
import torch.nn as nn


def make_denoiser():
    def conv(cin, cout, pad="same", relu=True):
        c = nn.Conv2d(cin, cout, 3, padding=1 if pad == "same" else 0)
        if relu:
            nn.init.kaiming_uniform_(c.weight, nonlinearity="relu")
        nn.init.zeros_(c.bias)
        return [c, nn.ReLU()] if relu else [c]

    # MaxPool2d(2, ceil_mode=True) is Keras' padding='same' pooling (7 -> 4).
    layers = (conv(1, 64) + [nn.MaxPool2d(2, ceil_mode=True)] + conv(64, 32) + [nn.MaxPool2d(2, ceil_mode=True)]
              + conv(32, 16) + [nn.MaxPool2d(2, ceil_mode=True)]
              + conv(16, 16) + [nn.Upsample(scale_factor=2)] + conv(16, 32) + [nn.Upsample(scale_factor=2)]
              + conv(32, 64, pad="valid") + [nn.Upsample(scale_factor=2)] + conv(64, 1, relu=False) + [nn.Sigmoid()])
    return nn.Sequential(*layers)


def conv_macs_per_sample(model):
    """Multiply-adds of every Conv2d per sample, from a forward pass."""
    macs = []

    def hook(mod, inp, out):
        macs.append(out.shape[1] * out.shape[2] * out.shape[3] * mod.in_channels * mod.kernel_size[0] * mod.kernel_size[1])

    handles = [m.register_forward_hook(hook) for m in model.modules() if isinstance(m, nn.Conv2d)]
    with torch.no_grad():
        model(torch.zeros(1, 1, 28, 28))
    for h in handles:
        h.remove()
    return macs


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--steps", type=int, default=30, help="timed steps per thread count (after 5 warm-up steps)")
    ap.add_argument("--threads", default="1,2", help="comma list of thread counts")
    ap.add_argument("--batch", type=int, default=64)
    args = ap.parse_args()

    torch.manual_seed(1)
    model = make_denoiser()
    macs = conv_macs_per_sample(model)
    # The first conv needs no input gradient: forward + weight gradient for it, all three for the rest.
    flops_per_sample = 2.0 * (3 * sum(macs) - macs[0])
    x = torch.rand(args.batch, 1, 28, 28)
    noisy = (x + 0.5 * torch.randn_like(x)).clamp(0, 1)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.MSELoss()
    print("torch %s, MKL-DNN %s, conv FLOPs per sample (train step) %.1f M"
          % (torch.__version__, torch.backends.mkldnn.is_available(), flops_per_sample / 1e6))
    for threads in [int(t) for t in args.threads.split(",")]:
        torch.set_num_threads(threads)
        for _ in range(5):
            opt.zero_grad()
            loss_fn(model(noisy), x).backward()
            opt.step()
        start, cpu_start = time.perf_counter(), time.process_time()
        for _ in range(args.steps):
            opt.zero_grad()
            loss = loss_fn(model(noisy), x)
            loss.backward()
            opt.step()
        seconds = (time.perf_counter() - start) / args.steps
        cpu = (time.process_time() - cpu_start) / args.steps
        # CPU time of all threads: on a shared machine, samples per CPU-second
        # (x threads) is a steadier measure than wall time.
        print("threads %d: %.2f ms/step, %.1f samples/s, %.2f GFLOP/s (wall); %.2f CPU-ms/step, %.1f samples per CPU-second"
              % (threads, 1e3 * seconds, args.batch / seconds, flops_per_sample * args.batch / seconds / 1e9, 1e3 * cpu,
                 args.batch / cpu))


if __name__ == "__main__":
    main()
