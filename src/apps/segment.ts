/**
 * Blur/sharp segmentation (DBM §V-B): the map refined by an MRF whose
 * unaries come from the map and whose Potts terms follow the photo's edges.
 * Two solvers of the same energy: "meanfield" runs as graph passes on the
 * model's own backend (the GPU in a browser), "graphcut" is the exact
 * minimum cut, on the CPU wherever the model runs.
 */
import type { Graph } from "../graph/ir.js";
import { buildMrf } from "../graph/mrf.js";
import { toInputTensor, UNIT_RGB, type RgbaImage } from "../image/preprocess.js";
import type { Tensor } from "../kernels/kernel.js";
import { contrastBeta, mrfEdges } from "../kernels/mrf-edges.js";
import type { BlurMap } from "../model.js";
import { graphCut } from "./graph-cut.js";

export type MrfSolver = "meanfield" | "graphcut";

export interface SegmentOptions {
  /** "meanfield" (default; on the model's backend) or "graphcut" (exact; CPU). */
  readonly solver?: MrfSolver;
  /** λ, the smoothness weight (default 1; 0 = the map thresholded at 0.5). */
  readonly smoothness?: number;
  /** Mean-field passes (default 20). */
  readonly iterations?: number;
}

export const SEGMENT_DEFAULTS = { solver: "meanfield", smoothness: 1, iterations: 20, damping: 0.5 } as const;

/** A binary mask: 1 = blurred, 0 = sharp, row-major. */
export interface BlurMask {
  readonly width: number;
  readonly height: number;
  readonly data: Uint8Array;
}

export interface Segmentation {
  readonly map: BlurMap;
  readonly mask: BlurMask;
  /** Time the MRF took, in ms. */
  readonly mrfMs: number;
}

/** RGBA bytes -> RGB floats in 0..1, [1, h, w, 3]: the MRF's view of the photo. */
export function rgbTensor(image: RgbaImage): Tensor {
  return toInputTensor(image, UNIT_RGB);
}

/**
 * P(blurred) per pixel of `map` ([1, h, w, 1], the same size as `image`):
 * mean-field's q, or the graph cut's labels as 0/1. `runGraph` runs a graph on
 * the model's backend and returns its output.
 */
export function segmentMap(map: Tensor, image: RgbaImage, opts: SegmentOptions, runGraph: (graph: Graph, inputs: Tensor[]) => Tensor): Tensor {
  const solver = opts.solver ?? SEGMENT_DEFAULTS.solver;
  const lambda = opts.smoothness ?? SEGMENT_DEFAULTS.smoothness;
  const iterations = opts.iterations ?? SEGMENT_DEFAULTS.iterations;
  if (!(Number.isFinite(lambda) && lambda >= 0)) throw new Error(`blurmap: smoothness must be a number ≥ 0, got ${opts.smoothness}`);
  const [, h, w] = map.shape;
  if (image.width !== w || image.height !== h) throw new Error(`blurmap: segment: map is ${w}×${h} but the image is ${image.width}×${image.height}`);
  const rgb = rgbTensor(image);
  const beta = contrastBeta(rgb);
  if (solver === "graphcut") {
    const edges = mrfEdges.cpu([rgb], { lambda, beta }, {});
    return { shape: map.shape, data: Float32Array.from(graphCut(map.data, edges.data, h, w)) };
  }
  if (solver !== "meanfield") throw new Error(`blurmap: unknown MRF solver "${solver}" (expected "meanfield" or "graphcut")`);
  return runGraph(buildMrf(h, w, { lambda, beta, iterations, damping: SEGMENT_DEFAULTS.damping }), [map, rgb]);
}

/** P(blurred) ≥ 0.5 -> 1. */
export function thresholdMask(probability: Tensor, size: { width: number; height: number }): BlurMask {
  return { width: size.width, height: size.height, data: Uint8Array.from(probability.data, (v) => (v >= 0.5 ? 1 : 0)) };
}
