"""Checkpoint -> safetensors in blurmap's tensor naming, F32, BatchNorm left
unfolded (tools/convert-weights folds it and writes the shipped fp16 file).

    /usr/bin/python3 tools/train/export.py runs/dbm/best.pt runs/dbm/export.safetensors
"""
import json
import os
import sys

import torch

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
import safetensors_io  # noqa: E402
from models import IMAGENET_MEAN, IMAGENET_STD  # noqa: E402

ARCHITECTURES = {
    "dbm": {"width": 1},
    "purohit-patch": {"filters": [32, 64, 128]},
    "purohit-unet": {"filters": 64, "depth": 8, "size": 256},
}


def main(src, dst):
    ckpt = torch.load(src, map_location="cpu")
    recipe = ckpt["recipe"]
    model = recipe["model"]
    tensors = [(k, v.float().numpy()) for k, v in ckpt["model"].items() if not k.endswith("num_batches_tracked")]
    provenance = {"trained_by": "blurmap tools/train/train.py (from scratch, no pretrained weights)",
                  "recipe": recipe, "steps": ckpt["step"], "losses": ckpt["losses"], "checkpoint": os.path.basename(src)}
    meta = {"format": "blurmap", "model": model, "architecture_version": "1",
            "architecture": json.dumps(ARCHITECTURES[model]),
            "normalisation": json.dumps({"mean": IMAGENET_MEAN, "std": IMAGENET_STD}),
            "output": "1 = blurred", "provenance": json.dumps(provenance)}
    safetensors_io.write(dst, tensors, meta, "F32")
    print(f"{dst}: {model}, {len(tensors)} tensors, step {ckpt['step']}, losses {ckpt['losses']}")


if __name__ == "__main__":
    main(*sys.argv[1:3])
