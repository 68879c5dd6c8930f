#!/usr/bin/python3
"""safetensors for PyTorch without the safetensors package (Debian 12 has
none): standard library + numpy + torch only.

As a module:
    from torch_safetensors import save_file, load_file, load_into, build_module
    save_file(model.state_dict(), "model.safetensors")      # any state_dict
    tensors, metadata = load_file("model.safetensors")       # name -> tensor
    load_into(model, "latent_model.safetensors")             # strict by default
    module = build_module("latent_model.safetensors")        # a torch module
        # rebuilt from latent's __metadata__ architecture, weights loaded

From the shell:
    torch_safetensors.py show FILE                 names, dtypes, shapes, metadata
    torch_safetensors.py convert IN.pt OUT         a torch.save'd state_dict -> safetensors
    torch_safetensors.py roundtrip IN OUT          load a latent file into torch, save it back

Run with /usr/bin/python3 (Debian's torch); OPENBLAS_NUM_THREADS=1 keeps it
from fighting other jobs for cores.
"""
import json
import struct
import sys

import numpy as np
import torch

_DTYPES = {
    "F64": (torch.float64, np.float64), "F32": (torch.float32, np.float32), "F16": (torch.float16, np.float16),
    "BF16": (torch.bfloat16, None), "I64": (torch.int64, np.int64), "I32": (torch.int32, np.int32),
    "I16": (torch.int16, np.int16), "I8": (torch.int8, np.int8), "U8": (torch.uint8, np.uint8), "BOOL": (torch.bool, np.bool_),
}
_NAMES = {t: n for n, (t, _) in _DTYPES.items()}


def save_file(tensors, path, metadata=None):
    """Writes {name: tensor} as safetensors (data in the tensors' dtypes, little-endian)."""
    items = sorted(tensors.items(), key=lambda kv: (-kv[1].element_size(), kv[0]))  # aligned: big elements first
    header, blobs, offset = {}, [], 0
    if metadata:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    for name, t in items:
        t = t.detach().cpu().contiguous()
        if t.dtype == torch.bfloat16:
            raw = t.view(torch.int16).numpy().astype("<i2").tobytes()
        else:
            raw = t.numpy().astype(t.numpy().dtype.newbyteorder("<")).tobytes()
        header[name] = {"dtype": _NAMES[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(path + ".tmp", "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for b in blobs:
            f.write(b)
    import os
    os.replace(path + ".tmp", path)


def load_file(path):
    """Returns ({name: tensor}, metadata dict)."""
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    if n > len(data) - 8:
        raise ValueError("%s: header length %d runs past the file (%d bytes)" % (path, n, len(data)))
    header = json.loads(data[8:8 + n])
    meta = header.pop("__metadata__", {}) or {}
    body = memoryview(data)[8 + n:]
    out = {}
    for name, info in header.items():
        b, e = info["data_offsets"]
        tdtype, ndtype = _DTYPES[info["dtype"]]
        if tdtype == torch.bfloat16:
            arr = np.frombuffer(body[b:e], dtype="<i2").copy()
            t = torch.from_numpy(arr).view(torch.bfloat16)
        else:
            arr = np.frombuffer(body[b:e], dtype=np.dtype(ndtype).newbyteorder("<")).astype(ndtype)
            t = torch.from_numpy(arr.copy())
        out[name] = t.reshape(info["shape"])
    return out, meta


def load_into(module, path, strict=True):
    """Loads a safetensors file into a module (dtype converted to the module's)."""
    tensors, _ = load_file(path)
    own = module.state_dict()
    conv = {k: v.to(own[k].dtype) if k in own else v for k, v in tensors.items()}
    return module.load_state_dict(conv, strict=strict)


# ---------------------------------------------------------------- latent architecture -> torch modules

class _Act(torch.nn.Module):
    def __init__(self, kind, alpha, threshold, approximate):
        super().__init__()
        self.kind, self.alpha, self.threshold, self.approximate = kind, alpha, threshold, approximate

    def forward(self, x):
        k = self.kind
        if k == "identity":
            return x
        if k == "relu":
            return torch.relu(x)
        if k == "leaky_relu":
            return torch.nn.functional.leaky_relu(x, self.alpha)
        if k == "elu":
            return torch.nn.functional.elu(x, self.alpha)
        if k == "sigmoid":
            return torch.sigmoid(x)
        if k == "tanh":
            return torch.tanh(x)
        if k == "softplus":
            return torch.nn.functional.softplus(x, threshold=self.threshold if self.threshold > 0 else float("inf"))
        if k == "gelu":
            return torch.nn.functional.gelu(x)
        if k == "gelu_tanh":
            return torch.nn.functional.gelu(x, approximate="tanh")
        raise ValueError("activation %s" % k)


class _Stack(torch.nn.Module):
    """latent's Sequential: children by name; image layers see (N, c, h, w),
    everything else latent's flat (N, features) batches."""

    def __init__(self):
        super().__init__()
        self.plan = []  # (name, input shape (c, h, w) or None for flat)

    def forward(self, x):
        n = x.shape[0]
        for name, shape in self.plan:
            m = getattr(self, name)
            if shape is not None:
                x = m(x.reshape(n, *shape)).reshape(n, -1)
            else:
                x = m(x)
        return x


class _Rnn(torch.nn.Module):
    """nn.LSTM/GRU on flattened sequences (N, T*F); last=True returns h_T.
    Its parameters are the nn.LSTM's own: weight_ih_l0, ..."""

    def __init__(self, cell, features, units, last):
        super().__init__()
        rnn = (torch.nn.LSTM if cell == "LSTM" else torch.nn.GRU)(features, units, batch_first=True)
        for name, p in rnn.named_parameters():
            self.register_parameter(name, p)
        self.rnn, self.features, self.last = [rnn], features, last

    def forward(self, x):
        n = x.shape[0]
        y, _ = self.rnn[0](x.reshape(n, -1, self.features))
        return y[:, -1] if self.last else y.reshape(n, -1)


class _Repeat(torch.nn.Module):
    def __init__(self, steps):
        super().__init__()
        self.steps = steps

    def forward(self, x):
        return x.repeat(1, self.steps)


class _Steps(torch.nn.Linear):
    """A Linear on every step of a flattened sequence (latent's TimeDistributed(Dense))."""

    def forward(self, x):
        n = x.shape[0]
        return super().forward(x.reshape(n, -1, self.in_features)).reshape(n, -1)


class _Mean(torch.nn.Module):
    """The VAE sampler in infer mode: z = mu, the first half of [mu; logvar] (channels)."""

    def forward(self, x):
        return x[:, : x.shape[1] // 2]


def _pad(a, shape, k, s, d, transposed):
    """torch padding (and ConvTranspose2d output_padding) for latent's padding."""
    kind = a.get("padding", "valid")
    if kind == "explicit":
        pad = (int(a["pad_h"]), int(a["pad_w"]))
    elif kind == "valid":
        pad = (0, 0)
    else:  # same: TensorFlow's split (the odd pixel after); torch can only pad symmetrically
        pad = []
        for n, kk, ss, dd in zip(shape[1:], k, s, d):
            keff = dd * (kk - 1) + 1
            total = max(keff - ss, 0) if transposed else max((-(-n // ss) - 1) * ss + keff - n, 0)
            if total % 2:
                raise NotImplementedError("'same' padding with an odd total (TensorFlow style) has no torch padding=; "
                                          "build the latent model with ConvOptions::padded(...)")
            pad.append(total // 2)
        pad = tuple(pad)
    op = (int(a.get("output_padding_h", "0")), int(a.get("output_padding_w", "0")))
    if transposed and kind == "same":  # output = input * stride
        op = tuple(ss + 2 * p - (dd * (kk - 1) + 1) for ss, p, dd, kk in zip(s, pad, d, k))
    return pad, op


def _out_shape(m, shape):
    with torch.no_grad():
        y = m(torch.zeros(2, *shape))
    return tuple(y.shape[1:])


def _build(c, shape, where):
    """(module, image?, output shape (c, h, w)) for one latent LayerConfig."""
    t, a = c["type"], c["attrs"]
    size = shape[0] * shape[1] * shape[2]
    flag = lambda v: v not in ("0", "false")
    if t == "Sequential":
        names = a["names"].split(",") if "names" in a else [str(i) for i in range(len(c["children"]))]
        for i in range(len(names)):  # latent writes each non-default name as "name.<i>"
            names[i] = a.get("name.%d" % i, names[i])
        stack = _Stack()
        for nm, ch in zip(names, c["children"]):
            m, image, out = _build(ch, shape, where + [nm])
            stack.add_module(nm, m)
            stack.plan.append((nm, shape if image else None))
            shape = out
        return stack, False, shape
    if t == "VariationalAutoencoder":
        seq = {"type": "Sequential", "attrs": {"name.0": "encoder", "name.1": "sampler", "name.2": "decoder"},
               "children": [c["children"][0], {"type": "GaussianSampler", "attrs": {}, "children": []}, c["children"][1]]}
        return _build(seq, shape, where)
    if t == "GaussianSampler":
        return _Mean(), False, (shape[0] // 2, shape[1], shape[2])
    if t == "Dense":
        return torch.nn.Linear(size, int(a["units"]), bias=flag(a.get("bias", "1"))), False, (int(a["units"]), 1, 1)
    if t == "Activation":
        return _Act(a["kind"], float(a.get("alpha", "1")), float(a.get("threshold", "0")), None), False, shape
    if t in ("Dropout", "GaussianNoise", "ActivityL1", "KLSparsity"):
        return torch.nn.Identity(), False, shape
    if t == "Flatten":
        return torch.nn.Identity(), False, (size, 1, 1)
    if t == "Reshape":
        return torch.nn.Identity(), False, tuple(int(v) for v in a["target"].split(","))
    if t == "BatchNorm":
        kw = dict(eps=float(a.get("eps", "1e-5")), momentum=float(a.get("momentum", "0.1")), affine=flag(a.get("affine", "1")))
        if shape[1] * shape[2] == 1:
            return torch.nn.BatchNorm1d(shape[0], **kw), False, shape
        return torch.nn.BatchNorm2d(shape[0], **kw), True, shape
    if t in ("Conv2D", "ConvTranspose2D"):
        k = (int(a["kernel_h"]), int(a["kernel_w"]))
        s = (int(a.get("stride_h", "1")), int(a.get("stride_w", "1")))
        d = (int(a.get("dilation_h", "1")), int(a.get("dilation_w", "1")))
        pad, op = _pad(a, shape, k, s, d, t == "ConvTranspose2D")
        bias = flag(a.get("bias", "1"))
        if t == "Conv2D":
            m = torch.nn.Conv2d(shape[0], int(a["filters"]), k, stride=s, padding=pad, dilation=d, bias=bias)
        else:
            m = torch.nn.ConvTranspose2d(shape[0], int(a["filters"]), k, stride=s, padding=pad, output_padding=op, dilation=d,
                                         bias=bias)
        return m, True, _out_shape(m, shape)
    if t in ("MaxPool2D", "AvgPool2D"):
        k = (int(a["pool_h"]), int(a["pool_w"]))
        s = (int(a["stride_h"]), int(a["stride_w"]))
        pad = (int(a["pad_h"]), int(a["pad_w"])) if a.get("padding") == "explicit" else (0, 0)
        if a.get("padding") == "same":
            raise NotImplementedError("pooling with 'same' padding at %s" % ".".join(where))
        ceil = flag(a.get("ceil_mode", "0"))
        if t == "MaxPool2D":
            m = torch.nn.MaxPool2d(k, s, pad, ceil_mode=ceil)
        else:
            m = torch.nn.AvgPool2d(k, s, pad, ceil_mode=ceil, count_include_pad=flag(a.get("count_include_pad", "1")))
        return m, True, _out_shape(m, shape)
    if t == "Upsample2D":
        bilinear = a.get("mode", "nearest") == "bilinear"
        m = torch.nn.Upsample(scale_factor=(int(a["scale_h"]), int(a["scale_w"])), mode="bilinear" if bilinear else "nearest",
                              align_corners=flag(a.get("align_corners", "0")) if bilinear else None)
        return m, True, _out_shape(m, shape)
    if t in ("LSTM", "GRU"):
        units, last = int(a["units"]), a.get("output", "sequence") == "last"
        return _Rnn(t, shape[1] * shape[2], units, last), False, ((units, 1, 1) if last else (shape[0], units, 1))
    if t == "RepeatVector":
        return _Repeat(int(a["times"])), False, (int(a["times"]), size, 1)
    if t == "TimeDistributed" and c["children"][0]["type"] == "Dense":
        inner = c["children"][0]["attrs"]
        m = _Steps(shape[1] * shape[2], int(inner["units"]), bias=flag(inner.get("bias", "1")))
        return m, False, (shape[0], int(inner["units"]), 1)
    raise NotImplementedError("layer type %s (at %s) has no torch equivalent in this tool" % (t, ".".join(where) or "the root"))


def build_module(path, dtype=torch.float32):
    """The torch module latent's __metadata__ describes, with the file's
    weights loaded (strict). It takes and returns latent's flat batches,
    (N, features) in sample order: (N, c*h*w) images, (N, T*F) sequences."""
    tensors, meta = load_file(path)
    if "latent.architecture" not in meta:
        raise ValueError("%s: no latent architecture in __metadata__" % path)
    arch = json.loads(meta["latent.architecture"])
    shape = tuple(int(v) for v in meta["latent.input_shape"].split(","))
    if meta.get("latent.kind") == "Seq2Seq":
        raise NotImplementedError("a Seq2Seq decodes step by step; load its weights with load_into into your own module")
    module, _, _ = _build(arch, shape, [])
    module = module.to(dtype)
    own = module.state_dict()
    missing = sorted(set(own) - set(tensors))
    extra = sorted(set(tensors) - set(own))
    if missing or extra:
        raise ValueError("%s: names differ: missing %s, extra %s" % (path, missing, extra))
    module.load_state_dict({k: v.to(own[k].dtype) for k, v in tensors.items()})
    return module.eval()


def _main(argv):
    if len(argv) >= 2 and argv[0] == "show":
        tensors, meta = load_file(argv[1])
        for k, v in meta.items():
            print("metadata %s = %s" % (k, v if len(v) < 200 else v[:200] + "..."))
        for k, v in tensors.items():
            print("%-40s %-9s %s" % (k, _NAMES[v.dtype], tuple(v.shape)))
        return 0
    if len(argv) == 3 and argv[0] == "convert":
        sd = torch.load(argv[1], map_location="cpu")
        if hasattr(sd, "state_dict"):
            sd = sd.state_dict()
        save_file(sd, argv[2])
        return 0
    if len(argv) == 3 and argv[0] == "roundtrip":
        m = build_module(argv[1])
        _, meta = load_file(argv[1])
        save_file(m.state_dict(), argv[2], meta)
        return 0
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
