"""Writes the PyTorch reference fixtures in test/fixtures/ (committed; tests need no PyTorch).

    /usr/bin/python3 tools/make_fixtures.py

ops.safetensors   one case per op configuration: inputs, weights (PyTorch layout),
                  expected output; activations NHWC. __metadata__.cases lists them.
<net>.safetensors        seeded random weights as a blurmap weights file (F16)
<net>.io.safetensors     the network input (NHWC, already normalised) and every
                         layer's output as PyTorch computes it (NHWC, F32)
"""
import json
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(__file__))
import safetensors_io  # noqa: E402
from models import DBM, PatchNet, UNet, IMAGENET_MEAN, IMAGENET_STD  # noqa: E402

OUT = os.path.join(os.path.dirname(__file__), "..", "test", "fixtures")
PATCH = 30


def nhwc(t):
    return t.detach().numpy().transpose(0, 2, 3, 1) if t.dim() == 4 else t.detach().numpy()[:, None, None, :]


def rand(*shape, scale=1.0):
    return torch.randn(*shape) * scale


# ---------------------------------------------------------------- per-op cases

def op_cases():
    cases, tensors = [], []

    def add(name, op, attrs, inputs, output, params=None):
        cases.append({"name": name, "op": op, "attrs": attrs, "inputs": len(inputs), "params": sorted((params or {}).keys())})
        for i, x in enumerate(inputs):
            tensors.append((f"{name}.input{i}", nhwc(x)))
        for k, v in (params or {}).items():
            tensors.append((f"{name}.{k}", v.numpy()))
        tensors.append((f"{name}.output", nhwc(output)))

    act_fn = {"none": lambda x: x, "relu": F.relu, "leaky_relu": lambda x: F.leaky_relu(x, 0.2), "sigmoid": torch.sigmoid}

    def conv(name, shape, cout, k, stride, pad, dil, act):
        x, w, b = rand(*shape), rand(cout, shape[1], k, k, scale=0.3), rand(cout, scale=0.1)
        y = act_fn[act](F.conv2d(x, w, b, stride, pad, dil))
        add(name, "conv2d", {"outChannels": cout, "kernel": [k, k], "stride": stride, "pad": pad, "dilation": dil, "activation": act}, [x], y, {"weight": w, "bias": b})

    conv("conv3x3_relu", (1, 6, 13, 11), 10, 3, [1, 1], [1, 1], [1, 1], "relu")
    conv("conv3x3_stride2_batch2", (2, 5, 15, 17), 8, 3, [2, 2], [1, 1], [1, 1], "none")
    conv("conv3x3_dilation2_leaky", (1, 4, 12, 9), 3, 3, [1, 1], [2, 2], [2, 2], "leaky_relu")
    conv("conv1x1_to_one", (1, 16, 7, 9), 1, 1, [1, 1], [0, 0], [1, 1], "none")
    conv("conv4x4_stride2_leaky", (1, 3, 16, 14), 7, 4, [2, 2], [1, 1], [1, 1], "leaky_relu")
    conv("conv5x5_stride1x2_sigmoid", (1, 5, 11, 13), 6, 5, [1, 2], [2, 1], [1, 1], "sigmoid")

    def convt(name, shape, cout, k, stride, pad, act):
        x, w, b = rand(*shape), rand(shape[1], cout, k, k, scale=0.3), rand(cout, scale=0.1)
        y = act_fn[act](F.conv_transpose2d(x, w, b, stride, pad))
        add(name, "conv_transpose2d", {"outChannels": cout, "kernel": [k, k], "stride": [stride, stride], "pad": [pad, pad], "dilation": [1, 1], "activation": act}, [x], y, {"weight": w, "bias": b})

    convt("convT4x4_stride2_relu", (1, 12, 5, 7), 6, 4, 2, 1, "relu")
    convt("convT3x3_stride2_nopad", (1, 5, 4, 3), 3, 3, 2, 0, "none")

    x = rand(1, 7, 9, 11)
    add("maxpool_odd", "maxpool2d", {"size": 2}, [x], F.max_pool2d(x, 2))
    x = rand(1, 5, 3, 4)
    add("resize_up_x16ish", "resize_bilinear", {"height": 37, "width": 53}, [x], F.interpolate(x, size=(37, 53), mode="bilinear", align_corners=False))
    x = rand(1, 3, 20, 17)
    add("resize_down", "resize_bilinear", {"height": 7, "width": 5}, [x], F.interpolate(x, size=(7, 5), mode="bilinear", align_corners=False))
    x = rand(1, 3, 5, 6, scale=12.0)
    add("sigmoid_wide_range", "sigmoid", {}, [x], torch.sigmoid(x))
    a, b = rand(1, 5, 4, 5), rand(1, 3, 4, 5)
    add("concat_unaligned", "concat", {}, [a, b], torch.cat([a, b], 1))
    a, b = torch.rand(1, 1, 6, 7), torch.rand(1, 1, 6, 7)
    add("multiply", "multiply", {}, [a, b], a * b)

    def dense(name, shape, out):
        x, w, bias = rand(*shape), rand(out, shape[1] * shape[2] * shape[3], scale=0.2), rand(out, scale=0.1)
        add(name, "dense", {"outFeatures": out, "activation": "none"}, [x], F.linear(torch.flatten(x, 1), w, bias), {"weight": w, "bias": bias})

    dense("dense_4x4x10_to_1", (3, 10, 4, 4), 1)
    dense("dense_2x3x5_to_7", (2, 5, 2, 3), 7)

    # Patch grid, written independently of the engine: steps of `stride`, last patch flush with the edge.
    img = rand(1, 3, 47, 61)
    stride = 15
    ys, xs = grid(47, stride), grid(61, stride)
    patches = torch.stack([img[0, :, y:y + PATCH, x:x + PATCH] for y in ys for x in xs])
    add("extract_patches", "extract_patches", {"size": PATCH, "stride": stride}, [img], patches)
    scores = torch.rand(len(patches), 1, 1, 1)
    add("average_patches", "average_patches", {"size": PATCH, "stride": stride, "height": 47, "width": 61}, [scores],
        torch.from_numpy(average(scores.numpy().ravel(), ys, xs, 47, 61))[None, None])

    # The MRF and blur-magnification ops, on their own seed so the cases above keep their values.
    with torch.random.fork_rng():
        torch.manual_seed(46)
        mrf_cases(add)
    return cases, tensors


def mrf_cases(add):
    """Contrast-sensitive Potts weights, a damped mean-field pass, and the magnification blend, written from their formulas."""
    lam, beta, damping = 1.7, 3.0, 0.4
    img = torch.rand(1, 3, 9, 12)
    edges = torch.zeros(1, 4, 9, 12)
    dx = lam * torch.exp(-beta * ((img[..., :, 1:] - img[..., :, :-1]) ** 2).sum(1))
    dy = lam * torch.exp(-beta * ((img[..., 1:, :] - img[..., :-1, :]) ** 2).sum(1))
    edges[:, 0, :, :-1], edges[:, 2, :, 1:] = dx, dx  # right, left
    edges[:, 1, :-1, :], edges[:, 3, 1:, :] = dy, dy  # down, up
    add("mrf_edges", "mrf_edges", {"lambda": lam, "beta": beta}, [img], edges)

    b = torch.rand(1, 1, 9, 12)
    b[0, 0, 0, :3] = torch.tensor([0.0, 1.0, 0.5])  # the clamp at 1e-4 matters at 0 and 1
    q = torch.rand(1, 1, 9, 12)
    pad = F.pad(2 * q - 1, (1, 1, 1, 1))  # neighbours outside the image pull with weight 0 anyway
    neighbours = torch.cat([pad[..., 1:-1, 2:], pad[..., 2:, 1:-1], pad[..., 1:-1, :-2], pad[..., :-2, 1:-1]], 1)
    bc = b.clamp(1e-4, 1 - 1e-4)
    field = torch.log(bc / (1 - bc)) + (edges * neighbours).sum(1, keepdim=True)
    add("mrf_meanfield", "mrf_meanfield", {"damping": damping}, [b, edges, q], (1 - damping) * torch.sigmoid(field) + damping * q)

    image = torch.rand(1, 3, 7, 10)
    blurred = torch.cat([torch.rand(1, 3, 7, 10), 0.2 + torch.rand(1, 1, 7, 10)], 1)
    m = torch.rand(1, 1, 7, 10)
    t = ((m - 0.3) / 0.4).clamp(0, 1)
    alpha = t * t * (3 - 2 * t)
    add("blend_by_map", "blend_by_map", {"low": 0.3, "high": 0.7}, [image, blurred, m], image + (blurred[:, :3] / blurred[:, 3:] - image) * alpha)


def grid(length, stride):
    starts = list(range(0, length - PATCH + 1, stride))
    if starts[-1] != length - PATCH:
        starts.append(length - PATCH)
    return starts


def average(scores, ys, xs, h, w):
    total, count = np.zeros((h, w)), np.zeros((h, w))
    for i, y in enumerate(ys):
        for j, x in enumerate(xs):
            total[y:y + PATCH, x:x + PATCH] += scores[i * len(xs) + j]
            count[y:y + PATCH, x:x + PATCH] += 1
    return (total / count).astype(np.float32)


# ---------------------------------------------------------------- networks

def randomise(model):
    """Seeded weights that keep activations in range through deep stacks, and
    non-trivial BatchNorm statistics so folding is really exercised."""
    for m in model.modules():
        if isinstance(m, (torch.nn.Conv2d, torch.nn.ConvTranspose2d, torch.nn.Linear)):
            torch.nn.init.kaiming_normal_(m.weight, nonlinearity="relu")
            torch.nn.init.normal_(m.bias, 0, 0.05)
        if isinstance(m, torch.nn.BatchNorm2d):
            torch.nn.init.uniform_(m.weight, 0.5, 1.5)
            torch.nn.init.normal_(m.bias, 0, 0.1)
            m.running_mean.normal_(0, 0.1)
            m.running_var.uniform_(0.5, 1.5)
    # Store as F16, and compute the reference with exactly those values.
    with torch.no_grad():
        for p in list(model.parameters()) + [b for n, b in model.named_buffers() if "running" in n]:
            p.copy_(p.half().float())
    return model.eval()


def weights_metadata(model_name, architecture, provenance):
    return {
        "format": "blurmap", "model": model_name, "architecture_version": "1",
        "architecture": json.dumps(architecture),
        "normalisation": json.dumps({"mean": IMAGENET_MEAN, "std": IMAGENET_STD}),
        "output": "1 = blurred", "provenance": provenance,
    }


def write_net(name, model, model_name, architecture, inputs, taps, io=True):
    state = [(k, v.numpy()) for k, v in model.state_dict().items() if not k.endswith("num_batches_tracked")]
    prov = f"TEST FIXTURE: random weights (torch.manual_seed in tools/make_fixtures.py), not trained"
    safetensors_io.write(os.path.join(OUT, f"{name}.safetensors"), state, weights_metadata(model_name, architecture, prov), "F16")
    if not io:
        return
    io = [("input", nhwc(inputs))] + [(k, nhwc(v)) for k, v in taps.items()]
    safetensors_io.write(os.path.join(OUT, f"{name}.io.safetensors"), io, {"source": "tools/make_fixtures.py", "torch": torch.__version__})


def main():
    os.makedirs(OUT, exist_ok=True)
    torch.manual_seed(20261122)
    cases, tensors = op_cases()
    safetensors_io.write(os.path.join(OUT, "ops.safetensors"), tensors, {"cases": json.dumps(cases), "torch": torch.__version__})

    with torch.no_grad():
        dbm = randomise(DBM(width=0.125))
        x = rand(1, 3, 37, 53)
        taps = {}
        taps["output"] = dbm(x, taps=taps)
        write_net("dbm-tiny", dbm, "dbm", {"width": 0.125}, x, taps)

        patch = randomise(PatchNet())
        x = rand(3, 3, PATCH, PATCH)
        taps = {}
        taps["output"] = patch(x, taps=taps)
        write_net("purohit-patch", patch, "purohit-patch", {"filters": [32, 64, 128]}, x, taps)

        unet = randomise(UNet(64, 5))
        x = rand(1, 3, 32, 32)
        taps = {}
        taps["output"] = unet(x, taps=taps)
        write_net("purohit-unet", unet, "purohit-unet", {"filters": 64, "depth": 5, "size": 32}, x, taps)

        # The whole Purohit pipeline on a 37x53 image, patch stride 15.
        img = rand(1, 3, 37, 53)
        ys, xs = grid(37, 15), grid(53, 15)
        patches = torch.stack([img[0, :, y:y + PATCH, x:x + PATCH] for y in ys for x in xs])
        b1 = torch.from_numpy(average(patch(patches).numpy().ravel(), ys, xs, 37, 53))[None, None]
        small = F.interpolate(img, size=(32, 32), mode="bilinear", align_corners=False)
        b2 = F.interpolate(unet(small), size=(37, 53), mode="bilinear", align_corners=False)
        io = [("input", nhwc(img)), ("b1", nhwc(b1)), ("b2", nhwc(b2)), ("output", nhwc(b1 * b2))]
        safetensors_io.write(os.path.join(OUT, "purohit.io.safetensors"), io, {"source": "tools/make_fixtures.py", "patch_stride": "15"})

        # The converter's inputs (own seed): the tiny DBM as ONNX, and one with BatchNorm as a .pth checkpoint.
        torch.manual_seed(7)
        x = rand(1, 3, 37, 53)
        torch.onnx.export(dbm, x, os.path.join(OUT, "dbm-tiny.onnx"), do_constant_folding=False, input_names=["input"])
        dbm_bn = randomise(DBM(width=0.125, bn=True))
        torch.save({"model": dbm_bn.state_dict(), "recipe": {"note": "test fixture"}}, os.path.join(OUT, "dbm-tiny-bn.pth"))
        safetensors_io.write(os.path.join(OUT, "dbm-tiny-bn.io.safetensors"), [("input", nhwc(x)), ("output", nhwc(dbm_bn(x)))], {"source": "tools/make_fixtures.py"})

        # Micro files (DBM at width 1/64) for fuzzing the parsers: small, so thousands of cases run fast.
        micro = randomise(DBM(width=1 / 64, bn=True))
        torch.save({"model": micro.state_dict()}, os.path.join(OUT, "fuzz-dbm-micro.pth"))
        micro_plain = randomise(DBM(width=1 / 64))
        torch.onnx.export(micro_plain, x, os.path.join(OUT, "fuzz-dbm-micro.onnx"), do_constant_folding=False)
        write_net("fuzz-dbm-micro", micro_plain, "dbm", {"width": 1 / 64}, None, {}, io=False)
    for f in sorted(os.listdir(OUT)):
        print(f"{f:32s} {os.path.getsize(os.path.join(OUT, f)):>9,d} bytes")


if __name__ == "__main__":
    main()
