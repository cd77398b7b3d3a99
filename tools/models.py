"""PyTorch definitions of blurmap's three networks.

These are the outside truth for the engine: tools/make_fixtures.py dumps their
outputs for the parity tests, and tools/train/ trains them. Parameter names
here are the tensor names in blurmap's safetensors files (see
src/weights/README.md); change one and the engine's model builders must follow.
"""
import torch
import torch.nn as nn
import torch.nn.functional as F

# VGG16 conv1_1..conv5_3 channel plan; "M" is a 2x2 max-pool. No pool5 (DBM config V).
VGG16_PLAN = [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512]
VGG16_NAMES = ["conv1_1", "conv1_2", "conv2_1", "conv2_2", "conv3_1", "conv3_2", "conv3_3",
               "conv4_1", "conv4_2", "conv4_3", "conv5_1", "conv5_2", "conv5_3"]


class ConvBN(nn.Module):
    """conv (or transposed conv), optional BatchNorm, optional activation.
    The engine folds BN into the conv (at load time, or on conversion)."""

    def __init__(self, cin, cout, k, stride=1, pad=0, bn=False, act="relu", transposed=False):
        super().__init__()
        conv = nn.ConvTranspose2d if transposed else nn.Conv2d
        self.conv = conv(cin, cout, k, stride, pad, bias=True)
        self.bn = nn.BatchNorm2d(cout) if bn else None
        self.act = act

    def forward(self, x):
        x = self.conv(x)
        if self.bn is not None:
            x = self.bn(x)
        return activation(x, self.act)


def activation(x, act):
    if act == "relu":
        return F.relu(x)
    if act == "leaky":
        return F.leaky_relu(x, 0.2)
    if act == "none":
        return x
    raise ValueError(act)


class DBM(nn.Module):
    """Deep Blur Mapping, configuration V: VGG16 conv1_1..conv5_3, 1x1 conv to one
    channel, bilinear upsampling to the input size, sigmoid (applied by callers
    via forward(..., logits=False)). `width` scales every channel count (fixtures
    use 1/8 to stay small); `bn` adds BatchNorm for training from scratch."""

    def __init__(self, width=1.0, bn=False):
        super().__init__()
        layers, cin, i = nn.ModuleDict(), 3, 0
        for item in VGG16_PLAN:
            if item == "M":
                continue
            cout = max(1, int(round(item * width)))
            layers[VGG16_NAMES[i]] = ConvBN(cin, cout, 3, 1, 1, bn=bn)
            cin, i = cout, i + 1
        self.features = layers
        self.score = nn.Conv2d(cin, 1, 1)

    def forward(self, x, logits=False, taps=None):
        h, w = x.shape[2:]
        i, pools = 0, 0
        for item in VGG16_PLAN:
            if item == "M":
                x = F.max_pool2d(x, 2)
                pools += 1
                tap(taps, f"pool{pools}", x)
                continue
            name = VGG16_NAMES[i]
            x = self.features[name](x)
            tap(taps, name, x)
            i += 1
        x = self.score(x)
        tap(taps, "score", x)
        x = F.interpolate(x, size=(h, w), mode="bilinear", align_corners=False)
        tap(taps, "upsample", x)
        return x if logits else torch.sigmoid(x)


class PatchNet(nn.Module):
    """Purohit et al. patch classifier on 30x30 patches: three ConvBlocks
    (conv3x3+ReLU, conv3x3 stride 2 + BN + ReLU) of 32/64/128 filters, FC -> 1."""

    def __init__(self, filters=(32, 64, 128), patch=30):
        super().__init__()
        blocks, cin, size = [], 3, patch
        for f in filters:
            blocks.append(nn.ModuleDict({
                "conv1": ConvBN(cin, f, 3, 1, 1),
                "conv2": ConvBN(f, f, 3, 2, 1, bn=True),
            }))
            cin, size = f, (size + 2 - 3) // 2 + 1
        self.blocks = nn.ModuleList(blocks)
        self.fc = nn.Linear(cin * size * size, 1)

    def forward(self, x, logits=False, taps=None):
        for i, b in enumerate(self.blocks):
            x = b["conv1"](x)
            tap(taps, f"blocks.{i}.conv1", x)
            x = b["conv2"](x)
            tap(taps, f"blocks.{i}.conv2", x)
        x = self.fc(torch.flatten(x, 1))
        tap(taps, "fc", x)
        return x if logits else torch.sigmoid(x)


class UNet(nn.Module):
    """pix2pix-style generator, `filters` channels at every level: `depth` 4x4
    stride-2 convs going down (LeakyReLU 0.2, BN on all but the first and the
    innermost), 4x4 stride-2 transposed convs going up (BN + ReLU) with skip
    concatenation, a last transposed conv to one channel and a sigmoid."""

    def __init__(self, filters=64, depth=8):
        super().__init__()
        self.depth = depth
        self.down = nn.ModuleList()
        for i in range(depth):
            cin = 3 if i == 0 else filters
            self.down.append(ConvBN(cin, filters, 4, 2, 1, bn=0 < i < depth - 1, act="leaky"))
        self.up = nn.ModuleList()
        for i in range(depth - 1):
            cin = filters if i == 0 else 2 * filters
            self.up.append(UpConv(cin, filters, bn=True, act="relu"))
        self.out = UpConv(2 * filters if depth > 1 else filters, 1, bn=False, act="none")

    def forward(self, x, logits=False, taps=None):
        skips = []
        for i, d in enumerate(self.down):
            x = d(x)
            tap(taps, f"down.{i}", x)
            skips.append(x)
        for i, u in enumerate(self.up):
            x = u(x)
            tap(taps, f"up.{i}", x)
            x = torch.cat([x, skips[-2 - i]], 1)
            tap(taps, f"cat.{i}", x)
        x = self.out(x)
        tap(taps, "out", x)
        return x if logits else torch.sigmoid(x)


def UpConv(cin, cout, bn, act):
    """The U-Net's way up: 4x4 stride-2 transposed conv."""
    return ConvBN(cin, cout, 4, 2, 1, bn=bn, act=act, transposed=True)


def tap(taps, name, x):
    if taps is not None:
        taps[name] = x.detach().clone()


# Input normalisation shared by every network (stored in the weights' metadata).
IMAGENET_MEAN = [0.485, 0.456, 0.406]
IMAGENET_STD = [0.229, 0.224, 0.225]


def normalise(rgb01):
    """rgb01: N,3,H,W in [0,1] -> the networks' input."""
    mean = torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1)
    std = torch.tensor(IMAGENET_STD).view(1, 3, 1, 1)
    return (rgb01 - mean) / std
