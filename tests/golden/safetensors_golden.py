# Golden fixtures for tests/test_safetensors.cpp: small PyTorch models,
# trained a few steps, saved as safetensors (tools/torch_safetensors.py)
# with their inputs and PyTorch's outputs beside them. Regenerate with:
#   OPENBLAS_NUM_THREADS=1 /usr/bin/python3 tests/golden/safetensors_golden.py
# Writes tests/fixtures/torch_<model>.safetensors (the state_dict, exactly
# as torch names it) and torch_<model>_io.safetensors (x and outputs, one
# sample per row).
import os
import sys

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tools"))
from torch_safetensors import save_file  # noqa: E402

OUT = os.path.join(HERE, "..", "fixtures")
torch.manual_seed(12)
torch.set_num_threads(1)


def train(model, loss_fn, x, steps=5):
    opt = torch.optim.Adam(model.parameters(), lr=0.01)
    model.train()
    for _ in range(steps):
        opt.zero_grad()
        loss = loss_fn(model, x)
        loss.backward()
        opt.step()
    model.eval()


def save(name, model, io):
    save_file(model.state_dict(), os.path.join(OUT, "torch_%s.safetensors" % name))
    save_file({k: v.detach().contiguous() for k, v in io.items()}, os.path.join(OUT, "torch_%s_io.safetensors" % name))


class AE(torch.nn.Module):
    def __init__(self, encoder, decoder):
        super().__init__()
        self.encoder, self.decoder = encoder, decoder

    def forward(self, x):
        return self.decoder(self.encoder(x))


# ---- dense autoencoder, 20 -> 12 -> 4 -> 12 -> 20, BCE on sigmoid outputs
x = torch.rand(16, 20)
dense = AE(torch.nn.Sequential(torch.nn.Linear(20, 12), torch.nn.ReLU(), torch.nn.Linear(12, 4)),
           torch.nn.Sequential(torch.nn.Linear(4, 12), torch.nn.ReLU(), torch.nn.Linear(12, 20), torch.nn.Sigmoid()))
train(dense, lambda m, x: torch.nn.functional.binary_cross_entropy(m(x), x), x)
with torch.no_grad():
    save("dense_ae", dense, {"x": x, "code": dense.encoder(x), "y": dense(x)})

# ---- convolutional autoencoder with BatchNorm, 1x8x8 -> 8x2x2 -> 1x8x8
x = torch.rand(6, 1, 8, 8)
conv = AE(torch.nn.Sequential(torch.nn.Conv2d(1, 4, 3, stride=2, padding=1), torch.nn.BatchNorm2d(4), torch.nn.ReLU(),
                              torch.nn.Conv2d(4, 8, 3, stride=2, padding=1), torch.nn.ReLU()),
          torch.nn.Sequential(torch.nn.ConvTranspose2d(8, 4, 3, stride=2, padding=1, output_padding=1), torch.nn.BatchNorm2d(4),
                              torch.nn.ReLU(), torch.nn.ConvTranspose2d(4, 1, 3, stride=2, padding=1, output_padding=1),
                              torch.nn.Sigmoid()))
train(conv, lambda m, x: torch.nn.functional.mse_loss(m(x), x), x)  # train mode: running statistics move
with torch.no_grad():
    save("conv_ae", conv, {"x": x.reshape(6, -1), "code": conv.encoder(x).reshape(6, -1), "y": conv(x).reshape(6, -1)})


# ---- VAE, 20 -> 16 -> [mu; logvar] (2 x 3) -> 16 -> 20 logits
class VAE(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = torch.nn.Sequential(torch.nn.Linear(20, 16), torch.nn.ReLU(), torch.nn.Linear(16, 6))
        self.decoder = torch.nn.Sequential(torch.nn.Linear(3, 16), torch.nn.ReLU(), torch.nn.Linear(16, 20))

    def forward(self, x):
        mu, logvar = self.encoder(x).chunk(2, dim=1)
        z = mu + torch.exp(0.5 * logvar) * torch.randn_like(mu)
        return self.decoder(z), mu, logvar


def elbo(m, x):
    logits, mu, logvar = m(x)
    recon = torch.nn.functional.binary_cross_entropy_with_logits(logits, x, reduction="sum") / x.shape[0]
    kl = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp()) / x.shape[0]
    return recon + kl


x = torch.rand(10, 20)
vae = VAE()
train(vae, elbo, x)
with torch.no_grad():
    mu, logvar = vae.encoder(x).chunk(2, dim=1)
    save("vae", vae, {"x": x, "mu": mu, "logvar": logvar, "logits": vae.decoder(mu)})


# ---- LSTM sequence autoencoder: T = 5 steps of F = 3, code H = 4
class SeqAE(torch.nn.Module):
    def __init__(self, steps, features, units):
        super().__init__()
        self.steps = steps
        self.encoder = torch.nn.ModuleList([torch.nn.LSTM(features, units, batch_first=True)])
        self.decoder = torch.nn.ModuleList([torch.nn.LSTM(units, units, batch_first=True)])
        self.output = torch.nn.Linear(units, features)

    def code(self, x):
        return self.encoder[0](x)[0][:, -1]

    def forward(self, x):
        h = self.code(x).unsqueeze(1).repeat(1, self.steps, 1)
        return self.output(self.decoder[0](h)[0])


x = torch.randn(7, 5, 3)
seq = SeqAE(5, 3, 4)
train(seq, lambda m, x: torch.nn.functional.mse_loss(m(x), x), x)
with torch.no_grad():
    save("lstm_ae", seq, {"x": x.reshape(7, -1), "code": seq.code(x), "y": seq(x).reshape(7, -1)})
print("wrote", sorted(f for f in os.listdir(OUT) if f.startswith("torch_")))
