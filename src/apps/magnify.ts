/**
 * Blur magnification (DBM §V-C): regions the map calls blurred get more
 * defocus, sharp ones stay as they are, with smooth transitions where the map
 * changes. Runs as a graph on the model's backend:
 *
 *   small (the photo box-shrunk so the blur is ~2 px there, plus a ones channel)
 *     -> Gaussian along x -> Gaussian along y   (conv2d with fixed weights)
 *     -> bilinear back to full size -> blend_by_map(photo, blurred, map)
 *
 * Blurring a shrunk copy keeps the cost independent of the blur radius; the
 * result is smooth by construction, so the upsampling cannot show.
 */
import type { BoundParams } from "../graph/cpu-executor.js";
import { GraphBuilder, type Graph } from "../graph/ir.js";
import { shrinkToFit, type RgbaImage } from "../image/preprocess.js";
import { convAttrs } from "../kernels/conv2d.js";
import type { Tensor } from "../kernels/kernel.js";
import { rgbTensor } from "./segment.js";

export interface MagnifyOptions {
  /** σ of the added Gaussian blur as a fraction of the image's long side (default 0.01). */
  readonly strength?: number;
  /** Map values at or under this stay untouched (default 0.3). */
  readonly low?: number;
  /** Map values at or over this get the full added blur (default 0.7). */
  readonly high?: number;
}

export const MAGNIFY_DEFAULTS = { strength: 0.01, low: 0.3, high: 0.7 } as const;

/** σ in pixels of the shrunk copy the blur is computed on. */
const SMALL_SIGMA = 2;

export interface MagnifyPlan {
  readonly graph: Graph;
  readonly params: BoundParams;
  readonly inputs: Tensor[];
}

/** The graph, its fixed Gaussian weights and its inputs, for an image and its map (both full size). */
export function planMagnify(image: RgbaImage, map: Tensor, opts: MagnifyOptions = {}): MagnifyPlan {
  const strength = opts.strength ?? MAGNIFY_DEFAULTS.strength;
  const low = opts.low ?? MAGNIFY_DEFAULTS.low;
  const high = opts.high ?? MAGNIFY_DEFAULTS.high;
  if (!(Number.isFinite(strength) && strength > 0 && strength <= 0.2)) throw new Error(`blurmap: magnify strength must be in (0, 0.2], got ${opts.strength}`);
  if (!(low >= 0 && high <= 1 && low < high)) throw new Error(`blurmap: magnify needs 0 ≤ low < high ≤ 1, got low ${low}, high ${high}`);
  const { width, height } = image;
  const sigma = strength * Math.max(width, height);
  const factor = Math.max(1, sigma / SMALL_SIGMA);
  const small = shrinkToFit(image, Math.max(1, Math.round(Math.max(width, height) / factor)));
  const smallSigma = sigma * (small.width / width);
  const radius = Math.max(1, Math.ceil(3 * smallSigma));

  const g = new GraphBuilder();
  const photo = g.input("image", [1, height, width, 3]);
  const shrunk = g.input("small", [1, small.height, small.width, 4]);
  const mapIn = g.input("map", [1, height, width, 1]);
  const across = g.add("conv2d", "blur_x", [shrunk], { ...convAttrs(4, 1, { pad: [0, radius] }), kernel: [1, 2 * radius + 1] });
  const down = g.add("conv2d", "blur_y", [across], { ...convAttrs(4, 1, { pad: [radius, 0] }), kernel: [2 * radius + 1, 1] });
  const up = g.add("resize_bilinear", "blurred", [down], { height, width });
  const graph = g.build(g.add("blend_by_map", "magnified", [photo, up, mapIn], { low, high }));

  const taps = gaussian(smallSigma, radius);
  const params: BoundParams = new Map([
    ["blur_x", { weight: { shape: [4, 4, 1, taps.length], data: perChannel(taps) } }],
    ["blur_y", { weight: { shape: [4, 4, taps.length, 1], data: perChannel(taps) } }],
  ]);
  return { graph, params, inputs: [rgbTensor(image), rgbAndOnes(small), map] };
}

/** The graph's output ([1, h, w, 3], 0..1) as RGBA bytes, alpha from the photo. */
export function toRgbaImage(out: Tensor, image: RgbaImage): RgbaImage {
  const data = new Uint8ClampedArray(image.width * image.height * 4);
  for (let p = 0; p < image.width * image.height; p++) {
    for (let c = 0; c < 3; c++) data[p * 4 + c] = Math.round(out.data[p * 3 + c] * 255);
    data[p * 4 + 3] = image.data[p * 4 + 3];
  }
  return { width: image.width, height: image.height, data };
}

function gaussian(sigma: number, radius: number): Float32Array {
  const taps = Float32Array.from({ length: 2 * radius + 1 }, (_, i) => Math.exp(-((i - radius) ** 2) / (2 * sigma * sigma)));
  const sum = taps.reduce((a, b) => a + b, 0);
  return taps.map((t) => t / sum);
}

/** Conv weights [4 out, 4 in, taps]: each channel blurred on its own (a diagonal, depthwise filter). */
function perChannel(taps: Float32Array): Float32Array {
  const w = new Float32Array(16 * taps.length);
  for (let c = 0; c < 4; c++) w.set(taps, (c * 4 + c) * taps.length);
  return w;
}

/** RGB in 0..1 plus a channel of ones, [1, h, w, 4] (see blend-by-map.ts). */
function rgbAndOnes(image: RgbaImage): Tensor {
  const rgb = rgbTensor(image).data;
  const data = new Float32Array((rgb.length / 3) * 4);
  for (let p = 0; p < rgb.length / 3; p++) {
    data.set(rgb.subarray(p * 3, p * 3 + 3), p * 4);
    data[p * 4 + 3] = 1;
  }
  return { shape: [1, image.height, image.width, 4], data };
}
