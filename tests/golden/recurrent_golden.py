# Golden values for tests/test_recurrent.cpp ("matches PyTorch"), computed
# once with PyTorch's nn.LSTM / nn.GRU. Run: /usr/bin/python3 recurrent_golden.py
# Weights, inputs and initial states follow closed-form patterns that the
# C++ test reproduces, so no file is needed.
import math
import torch

T, F, H, N = 3, 2, 3, 2
torch.set_printoptions(precision=12)


def w(rows, cols, c):
    return torch.tensor([[0.3 * math.sin(1.3 * i + 0.7 * j + c) for j in range(cols)] for i in range(rows)], dtype=torch.float64)


def run(kind):
    g = 4 if kind == "LSTM" else 3
    m = (torch.nn.LSTM if kind == "LSTM" else torch.nn.GRU)(F, H, dtype=torch.float64)
    with torch.no_grad():
        m.weight_ih_l0.copy_(w(g * H, F, 0.1))
        m.weight_hh_l0.copy_(w(g * H, H, 0.2))
        m.bias_ih_l0.copy_(w(g * H, 1, 0.3).squeeze(1))
        m.bias_hh_l0.copy_(w(g * H, 1, 0.4).squeeze(1))
    x = torch.tensor([[[math.cos(0.5 * t + 0.9 * f + 0.3 * n) for f in range(F)] for n in range(N)] for t in range(T)],
                     dtype=torch.float64)
    h0 = torch.tensor([[[0.1 * math.sin(h + 2.0 * n) for h in range(H)] for n in range(N)]], dtype=torch.float64)
    c0 = torch.tensor([[[0.2 * math.cos(h + 1.5 * n) for h in range(H)] for n in range(N)]], dtype=torch.float64)
    if kind == "LSTM":
        y, (hT, cT) = m(x, (h0, c0))
        extra = cT
    else:
        y, hT = m(x, h0)
        extra = None
    print(kind, "outputs y[t][n][h]:")
    print(",\n".join(", ".join("%.12f" % v for v in y[t].flatten().tolist()) for t in range(T)))
    if extra is not None:
        print(kind, "final c[n][h]:")
        print(", ".join("%.12f" % v for v in extra[0].flatten().tolist()))


run("LSTM")
run("GRU")
