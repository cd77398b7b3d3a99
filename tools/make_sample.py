"""Renders samples/sample.png: a procedural scene (no photo, no licence strings)
with a sharp foreground and a defocused background, and its exact blur mask
samples/sample-mask.png (white = blurred).  /usr/bin/python3 tools/make_sample.py"""
import os
import sys

import numpy as np
from PIL import Image, ImageDraw

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "train"))
from synth import convolve, disk_kernel, to_linear, to_srgb  # noqa: E402

H, W = 240, 320
rng = np.random.default_rng(7)


def texture(seed):
    """Coloured noise blocks from 1 to 16 px with crisp edges, plus strokes: fine
    detail at every scale, as in gravel, foliage or fabric in focus."""
    r = np.random.default_rng(seed)
    img = np.zeros((H, W, 3), np.float32)
    for scale in (1, 2, 4, 8, 16):
        small = r.random((H // scale + 2, W // scale + 2, 3)).astype(np.float32)
        img += np.asarray(Image.fromarray((small * 255).astype(np.uint8)).resize((W + 2 * scale, H + 2 * scale), Image.NEAREST), np.float32)[:H, :W] / 255 / 5
    pil = Image.fromarray((np.clip(img, 0, 1) * 255).astype(np.uint8))
    d = ImageDraw.Draw(pil)
    for _ in range(60):
        x, y = r.integers(0, W), r.integers(0, H)
        d.line([(x, y), (x + r.integers(-40, 40), y + r.integers(-40, 40))], fill=tuple(int(v) for v in r.integers(0, 255, 3)), width=int(r.integers(1, 4)))
    return np.asarray(pil, np.float32) / 255


background = texture(1) * np.array([0.6, 0.8, 1.0], np.float32)
foreground = texture(2) * np.array([1.0, 0.85, 0.6], np.float32)
mask_img = Image.new("L", (W, H), 0)
ImageDraw.Draw(mask_img).ellipse([70, 40, 250, 230], fill=255)
ImageDraw.Draw(mask_img).rectangle([140, 150, 300, 240], fill=255)
sharp_region = np.asarray(mask_img, np.float32)[..., None] / 255

blurred_bg = to_srgb(convolve(to_linear(background), disk_kernel(4.0)))
img = sharp_region * foreground + (1 - sharp_region) * blurred_bg
out = os.path.join(os.path.dirname(__file__), "..", "samples")
Image.fromarray((np.clip(img, 0, 1) * 255 + 0.5).astype(np.uint8)).save(os.path.join(out, "sample.png"))
Image.fromarray(((1 - sharp_region[..., 0]) * 255).astype(np.uint8)).save(os.path.join(out, "sample-mask.png"))
print("wrote samples/sample.png and samples/sample-mask.png")
