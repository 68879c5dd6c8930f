#!/usr/bin/python3
"""PyTorch reference for benchmarks/bench_dense.cpp: training steps of the
same dense autoencoders on CPU, in samples/s.

Same set-up as the C++ benchmark: float32, batch 256, a fixed batch of
uniform [0, 1) inputs as both input and target, encoder Linear+ReLU for
hidden layers, linear code, decoder mirrored with Linear+ReLU and a sigmoid
output, MSE (mean), Adam(lr=1e-3). One step = zero_grad, forward, loss,
backward, optimizer step. The input needs no gradient, so neither library
computes dX for the first layer.

Run it with Debian's python3-torch (not a virtualenv python without torch):

    /usr/bin/python3 benchmarks/torch_dense.py
    /usr/bin/python3 benchmarks/torch_dense.py --bench build/benchmarks/bench_dense

With --bench, the Google Benchmark binary is run too, interleaved with the
PyTorch runs (same machine load for both), and a ratio column is printed:
latent samples/s / PyTorch samples/s. Repeat --bench LABEL=BINARY to compare
several builds (e.g. the default Eigen one and a -DLATENT_WITH_BLAS=ON one).
"""
import argparse
import json
import statistics
import sys

from bench_runner import benchmark_items_per_second, samples_per_second

try:
    import torch
    from torch import nn
except ImportError:  # pragma: no cover - depends on the interpreter
    sys.exit("torch_dense.py: PyTorch not found for " + sys.executable +
             "; run it with Debian's /usr/bin/python3 (apt-get install python3-torch)")

def _openblas_thread_setter():
    """Debian's torch does its GEMMs in OpenBLAS, whose own thread pool
    ignores torch.set_num_threads (a "1-thread" run would use every core).
    Returns openblas_set_num_threads from the library torch loaded, or None."""
    import ctypes
    for name in ("libopenblas.so.0", "libopenblas.so", "libblas.so.3"):
        try:
            fn = ctypes.CDLL(name).openblas_set_num_threads
        except (OSError, AttributeError):
            continue
        fn.argtypes = [ctypes.c_int]
        return fn
    return None


OPENBLAS_SET_NUM_THREADS = _openblas_thread_setter()


def set_threads(n):
    torch.set_num_threads(n)
    if OPENBLAS_SET_NUM_THREADS is not None:
        OPENBLAS_SET_NUM_THREADS(n)


MODELS = {
    "small": [784, 128, 32],             # 784-128-32-128-784
    "deep": [784, 2000, 500, 500, 10],   # 784-2000-500-500-10-500-500-2000-784
}
BENCH_NAMES = {"small": "BM_TrainStep_SmallAE", "deep": "BM_TrainStep_DeepAE"}


def make_autoencoder(sizes):
    layers = []
    n = len(sizes) - 1
    for i in range(1, n + 1):                       # encoder
        layers.append(nn.Linear(sizes[i - 1], sizes[i]))
        if i < n:
            layers.append(nn.ReLU())
    for i in range(n, 0, -1):                       # decoder, mirrored
        layers.append(nn.Linear(sizes[i], sizes[i - 1]))
        layers.append(nn.ReLU() if i > 1 else nn.Sigmoid())
    return nn.Sequential(*layers)


def step_flops(sizes, batch):
    chain = sizes + sizes[-2::-1]
    f = 0.0
    for i in range(1, len(chain)):
        mac = chain[i - 1] * chain[i] * batch
        f += 2 * mac + 2 * mac + (0 if i == 1 else 2 * mac)
    return f


def time_torch(sizes, threads, batch, steps, warmup):
    """Samples/s of `steps` training steps (after `warmup` steps)."""
    set_threads(threads)
    torch.manual_seed(0)
    model = make_autoencoder(sizes)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.MSELoss()
    x = torch.rand(batch, sizes[0])

    def step():
        opt.zero_grad()
        loss = loss_fn(model(x), x)
        loss.backward()
        opt.step()
        return loss

    return samples_per_second(step, batch, steps, warmup)


def time_latent(binary, model, threads, min_time):
    """Samples/s of the matching Google Benchmark case."""
    return benchmark_items_per_second(binary, "%s/threads:%d/real_time" % (BENCH_NAMES[model], threads), min_time)


def parse_bench(spec):
    """"LABEL=PATH" or "PATH" (labelled "latent")."""
    if "=" in spec:
        label, path = spec.split("=", 1)
        return label, path
    return "latent", spec


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--models", default="small,deep", help="comma list of: " + ", ".join(MODELS))
    ap.add_argument("--threads", default="1,2", help="comma list of thread counts")
    ap.add_argument("--batch", type=int, default=256)
    ap.add_argument("--runs", type=int, default=5, help="timed runs per case; the median is reported")
    ap.add_argument("--seconds", type=float, default=1.0, help="approximate length of one timed run")
    ap.add_argument("--bench", metavar="[LABEL=]BINARY", action="append", default=[],
                    help="also run this bench_dense binary, interleaved with PyTorch, and compare; "
                         "repeat for several builds, e.g. --bench eigen=build/benchmarks/bench_dense "
                         "--bench openblas=build-blas/benchmarks/bench_dense")
    ap.add_argument("--json", metavar="PATH", help="write the results as JSON")
    args = ap.parse_args()

    models = [m.strip() for m in args.models.split(",") if m.strip()]
    for m in models:
        if m not in MODELS:
            ap.error("unknown model %r (expected one of %s)" % (m, ", ".join(MODELS)))
    threads = [int(t) for t in args.threads.split(",")]
    benches = [parse_bench(b) for b in args.bench]
    if benches and args.batch != 256:
        ap.error("--bench compares against the C++ benchmark, which uses batch 256")

    print("PyTorch %s (%s), float32, batch %d, median of %d runs of ~%.1f s; OpenBLAS threads %s"
          % (torch.__version__, sys.executable, args.batch, args.runs, args.seconds,
             "set with torch's" if OPENBLAS_SET_NUM_THREADS else "not found (torch's own BLAS?)"))
    print_header()
    results = []
    for m in models:
        sizes = MODELS[m]
        arch = "-".join(map(str, sizes + sizes[-2::-1]))
        gflop = step_flops(sizes, args.batch) * 1e-9
        for t in threads:
            # Size a run from one short probe so each lasts ~args.seconds.
            probe = time_torch(sizes, t, args.batch, steps=3, warmup=3)
            steps = max(3, int(args.seconds * probe / args.batch))
            runs = {"pytorch": []}
            for label, _ in benches:
                runs[label] = []
            for _ in range(args.runs):  # interleaved: every implementation sees the same machine load
                runs["pytorch"].append(time_torch(sizes, t, args.batch, steps, warmup=max(2, steps // 10)))
                for label, path in benches:
                    runs[label].append(time_latent(path, m, t, args.seconds))
            torch_median = statistics.median(runs["pytorch"])
            for label, values in runs.items():
                med = statistics.median(values)
                row = {"model": m, "arch": arch, "threads": t, "batch": args.batch, "implementation": label,
                       "samples_per_s": med, "gflop_per_s": med / args.batch * gflop,
                       "vs_pytorch": med / torch_median, "runs": values}
                results.append(row)
                print_row(row)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"torch_version": torch.__version__, "batch": args.batch, "results": results}, f, indent=2)
            f.write("\n")


COLUMNS = [("model", 6), ("architecture", 38), ("threads", 7), ("implementation", 14), ("samples/s", 10),
           ("GFLOP/s", 8), ("vs PyTorch", 10)]


def _line(cells):
    return "  ".join(c.ljust(w) if i in (0, 1, 3) else c.rjust(w) for i, (c, (_, w)) in enumerate(zip(cells, COLUMNS)))


def print_header():
    print(_line([c for c, _ in COLUMNS]))
    print("-" * (sum(w for _, w in COLUMNS) + 2 * (len(COLUMNS) - 1)))


def print_row(r):
    print(_line([r["model"], r["arch"], str(r["threads"]), r["implementation"], "%.0f" % r["samples_per_s"],
                 "%.1f" % r["gflop_per_s"], "%.2fx" % r["vs_pytorch"]]), flush=True)


if __name__ == "__main__":
    main()
