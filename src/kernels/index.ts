/** Every op the graph can hold, by name. */
import { averagePatches } from "./average-patches.js";
import { blendByMap } from "./blend-by-map.js";
import { concat } from "./concat.js";
import { conv2d } from "./conv2d.js";
import { convTranspose2d } from "./conv-transpose2d.js";
import { dense } from "./dense.js";
import { extractPatches } from "./extract-patches.js";
import { interleaveColumns } from "./interleave-columns.js";
import type { Kernel } from "./kernel.js";
import { maxpool2d } from "./maxpool2d.js";
import { mrfEdges } from "./mrf-edges.js";
import { mrfMeanField } from "./mrf-meanfield.js";
import { multiply } from "./multiply.js";
import { resizeBilinear } from "./resize-bilinear.js";
import { sigmoid } from "./sigmoid.js";

export const KERNELS = {
  conv2d,
  conv_transpose2d: convTranspose2d,
  dense,
  maxpool2d,
  resize_bilinear: resizeBilinear,
  sigmoid,
  concat,
  multiply,
  extract_patches: extractPatches,
  average_patches: averagePatches,
  mrf_edges: mrfEdges,
  mrf_meanfield: mrfMeanField,
  blend_by_map: blendByMap,
  interleave_columns: interleaveColumns,
} as const satisfies Record<string, Kernel<never>>;

export type OpName = keyof typeof KERNELS;

export function kernelFor(op: OpName): Kernel<unknown> {
  return KERNELS[op] as Kernel<unknown>;
}
