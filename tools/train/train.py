"""Train one of blurmap's networks on synthesised partial blur, on the CPU.

    /usr/bin/python3 tools/train/train.py dbm   --minutes 110 --out runs/dbm
    /usr/bin/python3 tools/train/train.py patch --minutes 15  --out runs/patch
    /usr/bin/python3 tools/train/train.py unet  --minutes 20  --out runs/unet

Time-budgeted: the learning rate follows a cosine over --minutes of wall time,
so a run ends on schedule whatever the machine's speed. Checkpoints
(<out>/last.pt, <out>/best.pt by validation loss) hold the weights and the
recipe; tools/train/export.py turns one into a blurmap safetensors file.
"""
import argparse
import json
import math
import os
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from models import DBM, PatchNet, UNet, normalise  # noqa: E402
import synth  # noqa: E402

PATCH = 30
PATCH_MIN_ENTROPY = 4.5  # bits, grey-level histogram (Purohit et al.)
UNET_SIZE, UNET_DEPTH = 256, 8
# The engine shrinks a whole photo to UNET_SIZE before the U-Net, so training
# shrinks larger synthesised crops the same way (bilinear, align_corners=False).
UNET_SOURCE_CROP = 384


class SampleStream(torch.utils.data.IterableDataset):
    """Endless synthesised (image, label, weight) crops; seeded per worker."""

    def __init__(self, split, crop, seed):
        self.split, self.crop, self.seed = split, crop, seed

    def __iter__(self):
        torch.set_num_threads(1)
        info = torch.utils.data.get_worker_info()
        rng = np.random.default_rng(self.seed + (info.id if info else 0))
        bank = synth.make_shake_bank()
        sources = [synth.load_source(*s) for s in synth.list_sources(self.split)]
        while True:
            rgb, regions = sources[int(rng.integers(len(sources)))]
            rgb, regions = synth.random_crop(rng, rgb, regions, self.crop)
            img, label, weight, _ = synth.synthesise(rng, rgb, regions, bank)
            yield to_tensor(img), torch.from_numpy(label)[None], torch.from_numpy(weight)[None]


def to_tensor(img_uint8):
    return normalise(torch.from_numpy(img_uint8).permute(2, 0, 1).float()[None] / 255)[0]


def fixed_validation(crop, count, seed=777):
    """A deterministic validation batch from held-out photos."""
    rng = np.random.default_rng(seed)
    bank = synth.make_shake_bank()
    sources = synth.list_sources("val")
    xs, ys, ws = [], [], []
    for i in range(count):
        rgb, regions = synth.load_source(*sources[i % len(sources)])
        rgb, regions = synth.random_crop(rng, rgb, regions, crop)
        img, label, weight, _ = synth.synthesise(rng, rgb, regions, bank)
        xs.append(to_tensor(img)), ys.append(torch.from_numpy(label)[None]), ws.append(torch.from_numpy(weight)[None])
    return torch.stack(xs), torch.stack(ys), torch.stack(ws)


def weighted_bce(logits, label, weight):
    return (F.binary_cross_entropy_with_logits(logits, label, reduction="none") * weight).sum() / weight.sum()


# ------------------------------------------------------------- patches

def patch_entropy(grey_uint8):
    hist = np.bincount(grey_uint8.ravel(), minlength=256).astype(np.float64)
    p = hist[hist > 0] / hist.sum()
    return float(-(p * np.log2(p)).sum())


def patches_from(img, label, weight, rng, count):
    """Up to `count` 30x30 patches with entropy > 4.5 whose label is pure (>= 90%)."""
    h, w = label.shape
    grey = img.mean(2).astype(np.uint8)
    out = []
    for _ in range(count * 4):
        y, x = int(rng.integers(0, h - PATCH + 1)), int(rng.integers(0, w - PATCH + 1))
        lab = label[y:y + PATCH, x:x + PATCH].mean()
        if 0.1 < lab < 0.9 or weight[y:y + PATCH, x:x + PATCH].mean() < 0.9:
            continue
        if patch_entropy(grey[y:y + PATCH, x:x + PATCH]) <= PATCH_MIN_ENTROPY:
            continue
        out.append((img[y:y + PATCH, x:x + PATCH], float(lab > 0.5)))
        if len(out) == count:
            break
    return out


def build_patch_set(total, seed):
    rng = np.random.default_rng(seed)
    bank = synth.make_shake_bank()
    sources = [synth.load_source(*s) for s in synth.list_sources("train")]
    xs, ys = [], []
    t0 = time.time()
    while len(xs) < total:
        rgb, regions = sources[int(rng.integers(len(sources)))]
        rgb, regions = synth.random_crop(rng, rgb, regions, 160)
        img, label, weight, _ = synth.synthesise(rng, rgb, regions, bank)
        for p, l in patches_from(img, label, weight, rng, 40):
            xs.append(p), ys.append(l)
        if len(xs) % 5000 < 40:
            progress("patches", len(xs), total, t0)
    x = torch.from_numpy(np.stack(xs[:total])).permute(0, 3, 1, 2).contiguous()
    return x, torch.tensor(ys[:total])[:, None]


# ------------------------------------------------------------- U-Net's discriminator

class PatchGAN(nn.Module):
    """pix2pix's 70x70 PatchGAN on (image, map) pairs, at half pix2pix's width
    (32..256 channels) so that it does not cost more than the U-Net on a CPU."""

    def __init__(self, width=32):
        super().__init__()
        c = [4, width, 2 * width, 4 * width, 8 * width]
        layers = []
        for i in range(4):
            stride = 2 if i < 3 else 1
            layers += [nn.Conv2d(c[i], c[i + 1], 4, stride, 1)]
            if i > 0:
                layers += [nn.BatchNorm2d(c[i + 1])]
            layers += [nn.LeakyReLU(0.2)]
        layers += [nn.Conv2d(c[4], 1, 4, 1, 1)]
        self.net = nn.Sequential(*layers)

    def forward(self, img, blur_map):
        return self.net(torch.cat([img, blur_map], 1))


# ------------------------------------------------------------- loop

def progress(what, done, total, t0, extra=""):
    frac = min(1.0, done / max(1, total))
    bar = "#" * int(frac * 30)
    elapsed = time.time() - t0
    eta = elapsed / max(frac, 1e-6) - elapsed
    print(f"[{bar:<30}] {what} {done}/{total} {elapsed/60:5.1f}m eta {eta/60:5.1f}m {extra}", flush=True)


def cosine_lr(base, elapsed, budget):
    return base * 0.5 * (1 + math.cos(math.pi * min(1.0, elapsed / budget)))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model", choices=["dbm", "patch", "unet"])
    ap.add_argument("--minutes", type=float, required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--crop", type=int, default=128)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--lr", type=float, default=5e-4)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    os.makedirs(args.out, exist_ok=True)
    recipe = {k: v for k, v in vars(args).items() if k != "out"}
    recipe.update(optimiser="Adam(betas=0.9,0.999)", schedule="cosine over wall time",
                  data="tools/train/synth.py on ../shared/datasets/photos (train split: sha1(name) % 10 != 0)")
    {"dbm": train_dbm, "patch": train_patch, "unet": train_unet}[args.model](args, recipe)


def save(path, model, recipe, step, losses):
    torch.save({"model": model.state_dict(), "recipe": recipe, "step": step, "losses": losses}, path + ".tmp")
    os.replace(path + ".tmp", path)


def train_dense(args, recipe, model, loss_fn, crop, extra_step=None, prepare=lambda x, y, w: (x, y, w)):
    """Shared loop for the two dense-map networks (DBM, U-Net). `prepare` maps
    each (image, label, weight) batch to what the network sees."""
    opt = torch.optim.Adam(model.parameters(), args.lr)
    stream = torch.utils.data.DataLoader(SampleStream("train", crop, args.seed), batch_size=args.batch, num_workers=1)
    val = prepare(*fixed_validation(crop, 48))
    budget = args.minutes * 60
    t0, last_ckpt, best, step, losses = time.time(), time.time(), float("inf"), 0, {}
    running = None
    for batch in stream:
        x, y, w = prepare(*batch)
        elapsed = time.time() - t0
        if elapsed > budget:
            break
        for g in opt.param_groups:
            g["lr"] = cosine_lr(args.lr, elapsed, budget)
        model.train()
        loss = loss_fn(model, x, y, w)
        opt.zero_grad()
        loss.backward()
        opt.step()
        if extra_step:
            extra_step(model, x, y)
        step += 1
        running = loss.item() if running is None else 0.98 * running + 0.02 * loss.item()
        if step % 20 == 0:
            progress(args.model, int(elapsed), int(budget), t0, f"step {step} loss {running:.4f}")
        if time.time() - last_ckpt > 300:
            last_ckpt = time.time()
            best = checkpoint(args, recipe, model, val, step, running, best, losses)
    checkpoint(args, recipe, model, val, step, running, best, losses)


def checkpoint(args, recipe, model, val, step, running, best, losses):
    model.eval()
    with torch.no_grad():
        x, y, w = val
        v = sum(weighted_bce(model(x[i:i + 8], logits=True), y[i:i + 8], w[i:i + 8]).item()
                for i in range(0, len(x), 8)) / math.ceil(len(x) / 8)
    losses.update(step=step, train_bce=running, val_bce=v)
    print(f"checkpoint step {step} train {running:.4f} val {v:.4f}", flush=True)
    save(os.path.join(args.out, "last.pt"), model, recipe, step, dict(losses))
    if v < best:
        save(os.path.join(args.out, "best.pt"), model, recipe, step, dict(losses))
        best = v
    with open(os.path.join(args.out, "log.jsonl"), "a") as f:
        f.write(json.dumps(dict(losses)) + "\n")
    return best


def train_dbm(args, recipe):
    model = DBM(bn=True)
    recipe.update(model="dbm", train_arch="VGG16 conv1_1..conv5_3 with BatchNorm (folded on export), 1x1, bilinear, sigmoid",
                  loss="per-pixel BCE, weighted (untouched low-detail pixels 0.25)")
    train_dense(args, recipe, model, lambda m, x, y, w: weighted_bce(m(x, logits=True), y, w), args.crop)


def train_unet(args, recipe):
    model = UNet(64, UNET_DEPTH)
    disc = PatchGAN()
    dopt = torch.optim.Adam(disc.parameters(), 2e-4, betas=(0.5, 0.999))
    adv_weight, adv_every = 0.01, 2
    recipe.update(model="purohit-unet", working_size=UNET_SIZE, depth=UNET_DEPTH,
                  loss=f"weighted BCE + {adv_weight} x PatchGAN adversarial (pix2pix; 32-256 channels), adversarial terms every {adv_every} steps")
    step = [0]

    def g_loss(m, x, y, w):
        step[0] += 1
        logits = m(x, logits=True)
        if step[0] % adv_every:
            return weighted_bce(logits, y, w)
        fake = disc(x, torch.sigmoid(logits))
        adv = F.binary_cross_entropy_with_logits(fake, torch.ones_like(fake))
        return weighted_bce(logits, y, w) + adv_weight * adv

    def d_step(m, x, y):
        if step[0] % adv_every:
            return
        with torch.no_grad():
            fake_map = m(x)
        real, fake = disc(x, y), disc(x, fake_map)
        loss = F.binary_cross_entropy_with_logits(real, torch.ones_like(real)) + \
            F.binary_cross_entropy_with_logits(fake, torch.zeros_like(fake))
        dopt.zero_grad()
        loss.backward()
        dopt.step()

    def shrink(x, y, w):
        size = (UNET_SIZE, UNET_SIZE)
        return tuple(F.interpolate(t, size=size, mode="bilinear", align_corners=False) for t in (x, y, w))

    recipe.update(source_crop=UNET_SOURCE_CROP)
    train_dense(args, recipe, model, g_loss, UNET_SOURCE_CROP, d_step, shrink)


def train_patch(args, recipe):
    total = 200_000
    x, y = build_patch_set(total, args.seed)
    n_train, n_val = int(0.8 * total), int(0.1 * total)
    splits = {"train": slice(0, n_train), "val": slice(n_train, n_train + n_val), "test": slice(n_train + n_val, total)}
    model = PatchNet()
    recipe.update(model="purohit-patch", patches=total, split="80/10/10", min_entropy=PATCH_MIN_ENTROPY,
                  loss="BCE on patch label (label purity >= 90%)")
    opt = torch.optim.Adam(model.parameters(), args.lr)
    budget = args.minutes * 60
    t0, step, batch = time.time(), 0, 128

    def as_input(xb):
        return normalise(xb.float() / 255)

    def evaluate(s):
        model.eval()
        with torch.no_grad():
            xs, ys = x[splits[s]], y[splits[s]]
            logits = torch.cat([model(as_input(xs[i:i + 1024]), logits=True) for i in range(0, len(xs), 1024)])
            return F.binary_cross_entropy_with_logits(logits, ys).item(), ((logits > 0).float() == ys).float().mean().item()

    while time.time() - t0 < budget:
        perm = torch.randperm(n_train)
        for i in range(0, n_train - batch, batch):
            elapsed = time.time() - t0
            if elapsed > budget:
                break
            for g in opt.param_groups:
                g["lr"] = cosine_lr(args.lr, elapsed, budget)
            idx = perm[i:i + batch]
            model.train()
            loss = F.binary_cross_entropy_with_logits(model(as_input(x[idx]), logits=True), y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            step += 1
            if step % 100 == 0:
                progress("patch", int(elapsed), int(budget), t0, f"step {step} loss {loss.item():.4f}")
    val_loss, val_acc = evaluate("val")
    test_loss, test_acc = evaluate("test")
    losses = dict(step=step, val_bce=val_loss, val_accuracy=val_acc, test_bce=test_loss, test_accuracy=test_acc)
    print("final", losses, flush=True)
    save(os.path.join(args.out, "last.pt"), model, recipe, step, losses)
    save(os.path.join(args.out, "best.pt"), model, recipe, step, losses)


if __name__ == "__main__":
    main()
