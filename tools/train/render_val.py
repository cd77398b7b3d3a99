"""Renders the held-out validation set: photos training never sees (sha1 split),
synthesised deterministically (seeded) into images + masks (white = blurred).

    /usr/bin/python3 tools/train/render_val.py data/val      # 276 images, 224x224

Writes <out>/images/NNNN.png, <out>/masks/NNNN.png and <out>/index.json (source,
blur kind). Never committed: rebuilt from ../shared whenever needed.
"""
import json
import os
import sys

import numpy as np
from PIL import Image

sys.path.insert(0, os.path.dirname(__file__))
import synth  # noqa: E402

PER_PHOTO, SIZE, SEED = 3, 224, 2026


def main(out):
    os.makedirs(os.path.join(out, "images"), exist_ok=True)
    os.makedirs(os.path.join(out, "masks"), exist_ok=True)
    rng = np.random.default_rng(SEED)
    bank = synth.make_shake_bank(seed=SEED)
    index = []
    for set_name, file in synth.list_sources("val"):
        rgb, regions = synth.load_source(set_name, file)
        for _ in range(PER_PHOTO):
            crop, crop_regions = synth.random_crop(rng, rgb, regions, SIZE)
            img, label, _, info = synth.synthesise(rng, crop, crop_regions, bank)
            name = f"{len(index):04d}"
            Image.fromarray(img).save(os.path.join(out, "images", f"{name}.png"))
            Image.fromarray((label * 255).astype(np.uint8)).save(os.path.join(out, "masks", f"{name}.png"))
            index.append({"name": name, "source": f"{set_name}/{file}", "blur": info})
    with open(os.path.join(out, "index.json"), "w") as f:
        json.dump(index, f, indent=1)
    print(f"{out}: {len(index)} images from {len(index) // PER_PHOTO} held-out photos")


if __name__ == "__main__":
    main(sys.argv[1])
