/**
 * blurmap's public API, the same in a browser and in Node:
 *
 *   import { loadModel } from "blurmap";
 *   const model = await loadModel("weights/dbm.safetensors", { backend: "webgl" });
 *   const { map } = model.run(imageData);   // map.data: Float32Array, 1 = blurred
 *
 * Weights files describe themselves (see src/weights/metadata.ts): give one
 * "dbm" file, or the "purohit-patch" and "purohit-unet" files together.
 */
import { BlurMapModel, type ModelOptions } from "./model.js";
import { readWeightsFile } from "./weights/load.js";

export { BlurMapModel, blurDegree, runJob, MINIMUM_SIDE } from "./model.js";
export type { Backend, BlurMap, Job, JobResult, ModelKind, ModelOptions, RunResult } from "./model.js";
export type { BlurMask, MrfSolver, Segmentation, SegmentOptions } from "./apps/segment.js";
export type { MagnifyOptions } from "./apps/magnify.js";
export { shrinkToFit, type RgbaImage } from "./image/preprocess.js";
export { readWeightsFile } from "./weights/load.js";
export { WeightsError } from "./weights/safetensors.js";

/** A weights file: its bytes, or a URL to fetch. */
export type WeightsSource = ArrayBuffer | Uint8Array | string | URL;

export async function loadModel(weights: WeightsSource | readonly WeightsSource[], opts: ModelOptions = {}): Promise<BlurMapModel> {
  const sources = Array.isArray(weights) ? weights : [weights as WeightsSource];
  const files = await Promise.all(sources.map(async (s, i) => {
    if (s instanceof Uint8Array) return readWeightsFile(s, `weights #${i + 1}`);
    if (s instanceof ArrayBuffer) return readWeightsFile(new Uint8Array(s), `weights #${i + 1}`);
    const url = String(s);
    const response = await fetch(url);
    if (!response.ok) throw new Error(`blurmap: fetching weights ${url} failed: HTTP ${response.status}`);
    return readWeightsFile(new Uint8Array(await response.arrayBuffer()), url);
  }));
  const canDraw = typeof document !== "undefined" || typeof OffscreenCanvas !== "undefined" || opts.canvas !== undefined;
  return new BlurMapModel(files, { backend: canDraw ? "webgl" : "cpu", ...opts });
}
