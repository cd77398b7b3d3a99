"""Blur maps from a PyTorch checkpoint, written as blurmap writes them (8-bit
PNG, white = blurred), for scoring with `blurmap eval --maps`.

    /usr/bin/python3 tools/train/predict.py --dbm runs/dbm/best.pt data/val/images data/val/maps-dbm
    /usr/bin/python3 tools/train/predict.py --patch P.pt --unet U.pt --only patch|unet|fusion IN OUT
"""
import argparse
import os
import sys

import numpy as np
import torch
from PIL import Image

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from models import DBM, PatchNet, UNet, normalise  # noqa: E402
from shipped_fixture import purohit, load  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dbm")
    ap.add_argument("--patch")
    ap.add_argument("--unet")
    ap.add_argument("--only", choices=["patch", "unet", "fusion"], default="fusion")
    ap.add_argument("images")
    ap.add_argument("out")
    args = ap.parse_args()
    torch.set_num_threads(2)
    os.makedirs(args.out, exist_ok=True)
    if args.dbm:
        dbm = load(DBM(bn=True), args.dbm)
    else:
        # A branch switched off by --only contributes ones to the product b1·b2.
        patch = load(PatchNet(), args.patch) if args.only != "unet" else (lambda t: torch.ones(t.shape[0], 1))
        unet = load(UNet(64, 8), args.unet) if args.only != "patch" else (lambda t: torch.ones(t.shape[0], 1, t.shape[2], t.shape[3]))
    with torch.no_grad():
        for f in sorted(os.listdir(args.images)):
            rgb = np.asarray(Image.open(os.path.join(args.images, f)).convert("RGB"))
            x = normalise(torch.from_numpy(rgb.copy()).permute(2, 0, 1).float()[None] / 255)
            if args.dbm:
                m = dbm(x)
            else:
                m = purohit(patch, unet, x, 256)
            Image.fromarray((m[0, 0].clamp(0, 1).numpy() * 255 + 0.5).astype(np.uint8)).save(os.path.join(args.out, os.path.splitext(f)[0] + ".png"))
    print(f"{args.out}: {len(os.listdir(args.out))} maps")


if __name__ == "__main__":
    main()
