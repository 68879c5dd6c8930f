# Used by tests/test_safetensors.cpp: loads a latent-written safetensors file
# into the PyTorch module its __metadata__ describes (tools/torch_safetensors.py),
# runs it on x.npy and compares with latent's outputs y.npy (max |diff| over
# max |y| below 1e-5), then saves torch's state_dict back as OUT (same
# metadata) for the C++ side to load again.
#   OPENBLAS_NUM_THREADS=1 /usr/bin/python3 torch_check.py MODEL x.npy y.npy OUT
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tools"))
from torch_safetensors import build_module, load_file, save_file  # noqa: E402

torch.set_num_threads(1)
model_path, x_path, y_path, out_path = sys.argv[1:5]
module = build_module(model_path)
x = torch.from_numpy(np.load(x_path)).float()
y = np.load(y_path)
with torch.no_grad():
    got = module(x).numpy()
if got.shape != y.shape:
    print("shape: torch %s, latent %s" % (got.shape, y.shape))
    sys.exit(1)
rel = float(np.abs(got - y).max() / max(np.abs(y).max(), 1e-30))
print("%s: max |torch - latent| / max |latent| = %.3g" % (os.path.basename(model_path), rel))
_, meta = load_file(model_path)
save_file(module.state_dict(), out_path, meta)
sys.exit(0 if rel <= 1e-5 else 1)
