"""Synthesise partially blurred photos with exact blur masks (1 = blurred).

Sources are the sharp photos in ../shared/datasets/photos (read, never copied).
Each sample: a region mask (segments, objects, blobs, depth ramps, or the whole
frame), a blur (Gaussian or disk defocus, linear or shaken-camera motion)
rendered in linear light, composited with a soft edge, then noise and JPEG so
the network cannot key on compression artefacts.

Labels: 1 where we blurred, 0 where we did not. The photos' own blur is kept out
of the loss by a per-pixel weight: untouched pixels with little local detail get
LOW_DETAIL_WEIGHT, since they may be out of focus in the original photo.
"""
import csv
import hashlib
import io
import math
import os

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

PHOTOS = os.path.join(os.path.dirname(__file__), "..", "..", "..", "shared", "datasets", "photos")
MASK_DIRS = {"bsds500": "bsds500_segments", "coco128seg": "coco128seg_instances", "davis2016": "davis2016_masks"}
LOW_DETAIL_WEIGHT = 0.25
VAL_FRACTION_MOD = 10  # one photo in ten is held out, chosen by a hash of its name


def is_validation(name):
    return int(hashlib.sha1(name.encode()).hexdigest(), 16) % VAL_FRACTION_MOD == 0


def list_sources(split):
    """Photos that pass the sharpness screen, for 'train' or 'val'."""
    rows = csv.DictReader(open(os.path.join(PHOTOS, "sharpness_original_resolution.csv")))
    out = []
    for r in rows:
        if float(r["frac_tiles_lapvar_lt20"]) >= 0.3 or float(r["tile_lapvar_p50"]) <= 40:
            continue
        # The CSV keeps each photo's original file name; the files were re-encoded as .jpg.
        file = os.path.splitext(r["file"])[0] + ".jpg"
        if is_validation(f"{r['set']}/{file}") == (split == "val"):
            out.append((r["set"], file))
    return sorted(out)


def load_source(set_name, file):
    """-> (rgb uint8 HxWx3, list of ("labels", int label map HxW))."""
    rgb = np.asarray(Image.open(os.path.join(PHOTOS, set_name, file)).convert("RGB"))
    regions = []
    stem = os.path.splitext(file)[0]
    if set_name == "bsds500":
        for level in (0, 1):
            labels = np.asarray(Image.open(os.path.join(PHOTOS, MASK_DIRS[set_name], f"{stem}_{level}.png")))
            regions.append(("labels", labels.astype(np.int32)))
    elif set_name in MASK_DIRS:
        path = os.path.join(PHOTOS, MASK_DIRS[set_name], f"{stem}.png")
        if os.path.exists(path):
            labels = np.asarray(Image.open(path).convert("L")).astype(np.int32)
            if set_name == "davis2016":
                labels = (labels > 127).astype(np.int32)
            regions.append(("labels", labels))
    return rgb, regions


# ---------------------------------------------------------------- kernels

def gaussian_kernel(sigma):
    r = max(1, int(math.ceil(3 * sigma)))
    x = np.arange(-r, r + 1, dtype=np.float32)
    g = np.exp(-(x[None] ** 2 + x[:, None] ** 2) / (2 * sigma * sigma))
    return g / g.sum()


def disk_kernel(radius):
    """Anti-aliased disk (4x supersampled coverage)."""
    r = int(math.ceil(radius))
    ss = 4
    x = (np.arange(-r * ss, (r + 1) * ss, dtype=np.float32) + 0.5) / ss - 0.5
    inside = (x[None] ** 2 + x[:, None] ** 2 <= radius * radius).astype(np.float32)
    k = inside.reshape(2 * r + 1, ss, 2 * r + 1, ss).mean(axis=(1, 3))
    return k / k.sum()


def trajectory_kernel(rng, size=None):
    """Camera shake: a random walk with inertia, rasterised with bilinear splats
    (after Boracchi & Foi's trajectory model, simplified)."""
    size = size or int(rng.integers(9, 32))
    n = 200
    v = rng.normal(size=2)
    v /= np.linalg.norm(v) + 1e-8
    pos = np.zeros((n, 2))
    anxiety, momentum = rng.uniform(0.005, 0.08), rng.uniform(0.5, 0.95)
    for i in range(1, n):
        v = momentum * v + (1 - momentum) * rng.normal(size=2) * 0.6 + anxiety * rng.normal(size=2)
        pos[i] = pos[i - 1] + v
    pos -= pos.mean(0)
    extent = np.abs(pos).max() + 1e-8
    pos *= (size / 2 - 1) / extent
    return splat(pos + size / 2, size)


def linear_motion_kernel(rng):
    length = rng.uniform(4, 24)
    angle = rng.uniform(0, math.pi)
    t = np.linspace(-length / 2, length / 2, 100)
    size = int(math.ceil(length)) + 3
    pos = np.stack([t * math.sin(angle), t * math.cos(angle)], 1) + size / 2
    return splat(pos, size)


def splat(pos, size):
    k = np.zeros((size, size), np.float32)
    for y, x in pos:
        y0, x0 = int(math.floor(y - 0.5)), int(math.floor(x - 0.5))
        fy, fx = y - 0.5 - y0, x - 0.5 - x0
        for dy, wy in ((0, 1 - fy), (1, fy)):
            for dx, wx in ((0, 1 - fx), (1, fx)):
                if 0 <= y0 + dy < size and 0 <= x0 + dx < size:
                    k[y0 + dy, x0 + dx] += wy * wx
    return k / k.sum()


def random_kernel(rng, shake_bank):
    kind = rng.choice(["gauss", "disk", "motion", "shake"], p=[0.35, 0.3, 0.15, 0.2])
    if kind == "gauss":
        return gaussian_kernel(rng.uniform(0.5, 4.0)), kind
    if kind == "disk":
        return disk_kernel(rng.uniform(1.0, 6.0)), kind
    if kind == "motion":
        return linear_motion_kernel(rng), kind
    return shake_bank[int(rng.integers(len(shake_bank)))], kind


def make_shake_bank(count=1000, seed=1234):
    rng = np.random.default_rng(seed)
    return [trajectory_kernel(rng) for _ in range(count)]


# ---------------------------------------------------------------- rendering

def convolve(img, kernel):
    """img HxWxC float32, kernel kxk -> same size, reflect padding."""
    k = torch.from_numpy(np.ascontiguousarray(kernel[::-1, ::-1]))[None, None]
    kh, kw = kernel.shape
    x = torch.from_numpy(np.ascontiguousarray(img.transpose(2, 0, 1)))[:, None]
    pt, pl = (kh - 1) // 2, (kw - 1) // 2
    mode = "reflect" if min(img.shape[:2]) > max(kh, kw) else "replicate"
    x = F.pad(x, (pl, kw - 1 - pl, pt, kh - 1 - pt), mode=mode)
    return F.conv2d(x, k)[:, 0].numpy().transpose(1, 2, 0)


def to_linear(srgb):
    return np.power(np.clip(srgb, 0, 1), 2.2)


def to_srgb(lin):
    return np.power(np.clip(lin, 0, 1), 1 / 2.2)


def smooth_noise_mask(rng, h, w):
    """Random smooth blobs: low-pass noise thresholded at a random level."""
    scale = rng.uniform(0.05, 0.25) * max(h, w)
    noise = rng.normal(size=(h, w, 1)).astype(np.float32)
    field = convolve(noise, gaussian_kernel(scale / 3))[..., 0]
    return field > np.quantile(field, rng.uniform(0.3, 0.7))


def region_mask(rng, rgb, regions):
    """-> bool HxW, True = to be blurred."""
    h, w = rgb.shape[:2]
    choice = rng.uniform()
    if regions and choice < 0.55:
        _, labels = regions[int(rng.integers(len(regions)))]
        ids = np.unique(labels)
        if len(ids) >= 2:
            if len(ids) == 2 or rng.uniform() < 0.5:
                # one object or segment sharp in front of a blurred rest, or the reverse
                pick = ids[1:] if len(ids) == 2 else ids[int(rng.integers(len(ids)))]
                mask = np.isin(labels, pick)
            else:
                mask = np.isin(labels, ids[rng.uniform(size=len(ids)) < 0.5])
            if 0.03 < mask.mean() < 0.97:
                return mask if rng.uniform() < 0.5 else ~mask
    if choice < 0.8:
        return smooth_noise_mask(rng, h, w)
    # a straight focal boundary, like a depth ramp seen side-on
    angle = rng.uniform(0, 2 * math.pi)
    yy, xx = np.mgrid[0:h, 0:w]
    ramp = (yy - h / 2) * math.sin(angle) + (xx - w / 2) * math.cos(angle)
    return ramp > rng.uniform(-0.3, 0.3) * max(h, w)


def depth_ramp_blur(rng, lin):
    """Blur that grows with distance from a focal line (a tilted ground plane).
    Returns (blurred linear image, bool mask of visibly blurred pixels)."""
    h, w = lin.shape[:2]
    angle = rng.uniform(0, 2 * math.pi)
    yy, xx = np.mgrid[0:h, 0:w]
    ramp = ((yy - h / 2) * math.sin(angle) + (xx - w / 2) * math.cos(angle)) / max(h, w)
    focus = rng.uniform(-0.3, 0.3)
    sigma_map = np.clip((np.abs(ramp - focus) - 0.05) * rng.uniform(6, 14), 0, 4.0)
    levels = [0.0, 0.7, 1.4, 2.2, 3.0, 4.0]
    stack = [lin] + [convolve(lin, gaussian_kernel(s)) for s in levels[1:]]
    idx = np.interp(sigma_map, levels, np.arange(len(levels)))
    lo = np.floor(idx).astype(int)
    hi = np.minimum(lo + 1, len(levels) - 1)
    t = (idx - lo)[..., None]
    stack = np.stack(stack)
    out = np.take_along_axis(stack, lo[None, ..., None].repeat(3, -1), 0)[0] * (1 - t) + \
        np.take_along_axis(stack, hi[None, ..., None].repeat(3, -1), 0)[0] * t
    return out, sigma_map > 0.7


def local_detail(rgb):
    """Local Laplacian energy of the source (grey), smoothed over ~16 px."""
    grey = rgb.mean(2, keepdims=True)
    lap = np.array([[0, 1, 0], [1, -4, 1], [0, 1, 0]], np.float32)
    energy = convolve(grey * 255, lap) ** 2
    return convolve(energy, gaussian_kernel(5))[..., 0]


def synthesise(rng, rgb, regions, shake_bank):
    """-> (image uint8 HxWx3, label float32 HxW, weight float32 HxW, info str)."""
    lin = to_linear(rgb)
    mode = rng.uniform()
    if mode < 0.08:  # fully sharp
        out, label, info = lin, np.zeros(rgb.shape[:2], bool), "sharp"
    elif mode < 0.16:  # fully blurred
        k, kind = random_kernel(rng, shake_bank)
        out, label, info = convolve(lin, k), np.ones(rgb.shape[:2], bool), "blurred/" + kind
    elif mode < 0.26:
        out, label = depth_ramp_blur(rng, lin)
        info = "depth"
    else:
        mask = region_mask(rng, rgb, regions)
        k, kind = random_kernel(rng, shake_bank)
        blurred = convolve(lin, k)
        # The blurred layer's own edge spreads with the same kernel: a soft, real transition.
        alpha = convolve(mask[..., None].astype(np.float32), k)
        out = alpha * blurred + (1 - alpha) * lin
        label, info = mask, "region/" + kind
    srgb = to_srgb(out)
    srgb = srgb + rng.normal(size=srgb.shape).astype(np.float32) * rng.uniform(0, 0.015)
    img = (np.clip(srgb, 0, 1) * 255 + 0.5).astype(np.uint8)
    if rng.uniform() < 0.8:
        buf = io.BytesIO()
        Image.fromarray(img).save(buf, "JPEG", quality=int(rng.integers(60, 96)))
        img = np.asarray(Image.open(io.BytesIO(buf.getvalue())).convert("RGB"))
    weight = np.where(~label & (local_detail(rgb) < 40), LOW_DETAIL_WEIGHT, 1.0).astype(np.float32)
    return img, label.astype(np.float32), weight, info


def random_crop(rng, rgb, regions, size):
    """rgb uint8 -> random rescale (0.6-1.0 of the ≤640 px source), a size x size
    crop, as float32 in [0,1]."""
    h, w = rgb.shape[:2]
    scale = rng.uniform(0.6, 1.0)
    scale = max(scale, (size + 1) / min(h, w))
    nh, nw = int(round(h * scale)), int(round(w * scale))
    rgb = np.asarray(Image.fromarray(rgb).resize((nw, nh), Image.BICUBIC), np.float32) / 255
    regions = [(k, np.asarray(Image.fromarray(l.astype(np.int32)).resize((nw, nh), Image.NEAREST)))
               for k, l in regions]
    y, x = int(rng.integers(0, nh - size + 1)), int(rng.integers(0, nw - size + 1))
    return rgb[y:y + size, x:x + size], [(k, l[y:y + size, x:x + size]) for k, l in regions]
