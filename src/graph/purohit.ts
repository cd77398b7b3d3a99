/**
 * Purohit et al. (ICIP 2018): a patch classifier averaged over overlapping
 * 30×30 patches (b1), an image-level U-Net (b2) run at its working size and
 * resized back, and their product b = b1·b2. Tensor names inside each network
 * match tools/models.py's taps, behind a "patch." or "unet." prefix.
 */
import { convAttrs } from "../kernels/conv2d.js";
import { GraphBuilder, type Graph } from "./ir.js";
import type { TilingRule } from "./tiling.js";

export const PATCH_FILE = "purohit-patch";
export const UNET_FILE = "purohit-unet";
export const PATCH_SIZE = 30;

export interface PatchNetArchitecture {
  readonly filters: readonly number[];
}

export interface UNetArchitecture {
  readonly filters: number;
  readonly depth: number;
  /** The square size the U-Net runs at; a multiple of 2^depth. */
  readonly size: number;
}

export interface PurohitOptions {
  /** Step between patch positions, in pixels (smaller: smoother b1, more work). */
  readonly patchStride: number;
}

/**
 * Where Purohit tiles (graph/tiling.ts): at b1, the per-pixel mean over the
 * 30×30 patches covering a pixel, which all start within 29 pixels before it
 * and end within 29 after. Tile origins on the patch grid; and 30 pixels of
 * margin after, so that the patch a tile pulls back to end at its own edge
 * covers no pixel the tile keeps.
 */
export function purohitTiling(patchStride: number): TilingRule {
  return { cut: "b1", cell: 1, align: patchStride, before: PATCH_SIZE - 1, after: PATCH_SIZE };
}

/** Adds the patch classifier on `patches` [N, 30, 30, 3]; returns the logits' tensor [N, 1, 1, 1]. */
export function addPatchNet(g: GraphBuilder, patches: string, arch: PatchNetArchitecture, prefix = ""): string {
  let x = patches;
  let channels = 3;
  arch.filters.forEach((f, i) => {
    const block = `blocks.${i}`;
    x = g.add("conv2d", `${prefix}${block}.conv1`, [x], convAttrs(f, 3, { pad: [1, 1], activation: "relu" }), {
      file: PATCH_FILE,
      prefix: `${block}.conv1.conv`,
      weightShape: [f, channels, 3, 3],
    });
    x = g.add("conv2d", `${prefix}${block}.conv2`, [x], convAttrs(f, 3, { stride: [2, 2], pad: [1, 1], activation: "relu" }), {
      file: PATCH_FILE,
      prefix: `${block}.conv2.conv`,
      weightShape: [f, f, 3, 3],
      batchNorm: `${block}.conv2.bn`,
    });
    channels = f;
  });
  const [, h, w] = g.shape(x);
  return g.add("dense", `${prefix}fc`, [x], { outFeatures: 1, activation: "none" }, {
    file: PATCH_FILE,
    prefix: "fc",
    weightShape: [1, channels * h * w],
  });
}

/** Adds the U-Net on `image` [1, size, size, 3]; returns the logits' tensor [1, size, size, 1]. */
export function addUNet(g: GraphBuilder, image: string, arch: UNetArchitecture, prefix = ""): string {
  const { filters, depth } = arch;
  const skips: string[] = [];
  let x = image;
  for (let i = 0; i < depth; i++) {
    x = g.add("conv2d", `${prefix}down.${i}`, [x], convAttrs(filters, 4, { stride: [2, 2], pad: [1, 1], activation: "leaky_relu" }), {
      file: UNET_FILE,
      prefix: `down.${i}.conv`,
      weightShape: [filters, i === 0 ? 3 : filters, 4, 4],
      batchNorm: i > 0 && i < depth - 1 ? `down.${i}.bn` : undefined,
    });
    skips.push(x);
  }
  for (let i = 0; i < depth - 1; i++) {
    const up = g.add("conv_transpose2d", `${prefix}up.${i}`, [x], convAttrs(filters, 4, { stride: [2, 2], pad: [1, 1], activation: "relu" }), {
      file: UNET_FILE,
      prefix: `up.${i}.conv`,
      weightShape: [i === 0 ? filters : 2 * filters, filters, 4, 4],
      batchNorm: `up.${i}.bn`,
    });
    x = g.add("concat", `${prefix}cat.${i}`, [up, skips[depth - 2 - i]]);
  }
  return g.add("conv_transpose2d", `${prefix}out`, [x], convAttrs(1, 4, { stride: [2, 2], pad: [1, 1] }), {
    file: UNET_FILE,
    prefix: "out.conv",
    weightShape: [depth > 1 ? 2 * filters : filters, 1, 4, 4],
  });
}

export function checkUNetSize(arch: UNetArchitecture): void {
  if (arch.size % 2 ** arch.depth !== 0)
    throw new Error(`U-Net working size ${arch.size} is not a multiple of 2^${arch.depth} = ${2 ** arch.depth}`);
}

/** The patch classifier alone, on a batch of patches (for tests and patch-level evaluation). */
export function buildPatchNet(count: number, arch: PatchNetArchitecture): Graph {
  const g = new GraphBuilder();
  const x = addPatchNet(g, g.input("input", [count, PATCH_SIZE, PATCH_SIZE, 3]), arch);
  return g.build(g.add("sigmoid", "output", [x]));
}

/** The U-Net alone at its working size. */
export function buildUNet(arch: UNetArchitecture): Graph {
  checkUNetSize(arch);
  const g = new GraphBuilder();
  const x = addUNet(g, g.input("input", [1, arch.size, arch.size, 3]), arch);
  return g.build(g.add("sigmoid", "output", [x]));
}

/** The whole pipeline on an image: b = b1·b2 (before the MRF). */
export function buildPurohit(height: number, width: number, patch: PatchNetArchitecture, unet: UNetArchitecture, opts: PurohitOptions): Graph {
  checkUNetSize(unet);
  const g = new GraphBuilder();
  const image = g.input("input", [1, height, width, 3]);
  const patchAttrs = { size: PATCH_SIZE, stride: opts.patchStride };
  const patches = g.add("extract_patches", "patches", [image], patchAttrs);
  const patchProb = g.add("sigmoid", "patch.prob", [addPatchNet(g, patches, patch, "patch.")]);
  const small = g.add("resize_bilinear", "unet.input", [image], { height: unet.size, width: unet.size });
  const unetProb = g.add("sigmoid", "unet.prob", [addUNet(g, small, unet, "unet.")]);
  const b2 = g.add("resize_bilinear", "b2", [unetProb], { height, width });
  // b1 only now: kept through the U-Net, the patch scores take a few bytes, their per-pixel map a whole texture.
  const b1 = g.add("average_patches", "b1", [patchProb], { ...patchAttrs, height, width });
  return g.build(g.add("multiply", "output", [b1, b2]));
}
