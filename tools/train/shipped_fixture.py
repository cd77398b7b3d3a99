"""test/fixtures/shipped-maps.safetensors: PyTorch's blur maps from the
checkpoints behind the shipped weights, on crops of three real photos in
../shared/datasets/real_blur. The photos are not copied: the fixture holds the
crop boxes and the maps; the test decodes the same files with the same decoder.

    /usr/bin/python3 tools/train/shipped_fixture.py --dbm runs/dbm/best.pt [--patch ... --unet ...]
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
import torch
import torch.nn.functional as F

HERE = os.path.dirname(__file__)
sys.path.insert(0, os.path.join(HERE, ".."))
import safetensors_io  # noqa: E402
from make_fixtures import PATCH, average, grid  # noqa: E402  (the patch grid, written once)
from models import DBM, PatchNet, UNet, normalise  # noqa: E402

ROOT = os.path.join(HERE, "..", "..")
REAL = os.path.join(ROOT, "..", "shared", "datasets", "real_blur")
# (file, top, left, height, width): each crop holds both sharp and blurred parts
CROPS = [("mate_LadyBird.jpg", 120, 200, 96, 128), ("mate_Garden.jpg", 150, 250, 96, 128), ("opencv_text_motion.jpg", 40, 40, 96, 128)]
PATCH_STRIDE = 15


def decode(path):
    with tempfile.NamedTemporaryFile(suffix=".rgba") as f:
        out = subprocess.run(["node", "--import", "tsx", os.path.join(ROOT, "tools", "decode-image.ts"), path, f.name],
                             check=True, capture_output=True, text=True, cwd=ROOT)
        size = json.loads(out.stdout)
        rgba = np.fromfile(f.name, np.uint8).reshape(size["height"], size["width"], 4)
    return rgba


def purohit(patch, unet, x, unet_size):
    h, w = x.shape[2:]
    ys, xs = grid(h, PATCH_STRIDE), grid(w, PATCH_STRIDE)
    patches = torch.stack([x[0, :, y:y + PATCH, xx:xx + PATCH] for y in ys for xx in xs])
    b1 = torch.from_numpy(average(patch(patches).ravel().numpy(), ys, xs, h, w))[None, None]
    small = F.interpolate(x, size=(unet_size, unet_size), mode="bilinear", align_corners=False)
    b2 = F.interpolate(unet(small), size=(h, w), mode="bilinear", align_corners=False)
    return b1 * b2


def load(model, path):
    model.load_state_dict(torch.load(path, map_location="cpu")["model"])
    return model.eval()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dbm")
    ap.add_argument("--patch")
    ap.add_argument("--unet")
    args = ap.parse_args()
    tensors, cases = [], []
    with torch.no_grad():
        for file, top, left, h, w in CROPS:
            rgba = decode(os.path.join(REAL, file))[top:top + h, left:left + w]
            x = normalise(torch.from_numpy(rgba[..., :3].copy()).permute(2, 0, 1).float()[None] / 255)
            name = os.path.splitext(file)[0]
            cases.append({"name": name, "file": file, "top": top, "left": left, "height": h, "width": w,
                          "rgba_sum": int(rgba.astype(np.int64).sum())})
            if args.dbm:
                tensors.append((f"dbm.{name}", load(DBM(bn=True), args.dbm)(x)[0, 0].numpy()))
            if args.patch and args.unet:
                unet = load(UNet(64, 8), args.unet)
                tensors.append((f"purohit.{name}", purohit(load(PatchNet(), args.patch), unet, x, 256)[0, 0].numpy()))
    out = os.path.join(ROOT, "test", "fixtures", "shipped-maps.safetensors")
    safetensors_io.write(out, tensors, {"cases": json.dumps(cases), "patch_stride": str(PATCH_STRIDE),
                                        "checkpoints": json.dumps({k: v for k, v in vars(args).items() if v})})
    print(f"wrote {out}: {[t[0] for t in tensors]}")


if __name__ == "__main__":
    main()
