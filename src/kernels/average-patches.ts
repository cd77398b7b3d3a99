/**
 * Per-pixel mean of the patch classifier's outputs [N, 1, 1, 1] over every
 * patch that covers the pixel (the grid of extract-patches.ts), giving a map
 * [1, H, W, 1].
 */
import { PATCH_GRID_GLSL, patchCount, patchStart, patchUniforms, type PatchAttrs } from "./extract-patches.js";
import { tensor, type Kernel } from "./kernel.js";

export interface AverageAttrs extends PatchAttrs {
  readonly height: number;
  readonly width: number;
}

/** Indices of the patches along one axis that cover pixel `p`. */
export function coveringPatches(p: number, length: number, a: PatchAttrs): number[] {
  const out = [];
  const first = p - a.size + 1 <= 0 ? 0 : Math.ceil((p - a.size + 1) / a.stride);
  for (let i = first; i < patchCount(length, a); i++) {
    const start = patchStart(i, length, a);
    if (start > p) break;
    if (start + a.size > p) out.push(i);
  }
  return out;
}

export const averagePatches: Kernel<AverageAttrs> = {
  op: "average_patches",
  outputShape([x], a) {
    const expected = patchCount(a.height, a) * patchCount(a.width, a);
    if (x[0] !== expected || x[1] !== 1 || x[2] !== 1 || x[3] !== 1)
      throw new Error(`average_patches: expects [${expected}, 1, 1, 1] patch scores for ${a.height}×${a.width}, got [${x.join(", ")}]`);
    return [1, a.height, a.width, 1];
  },
  cpu([x], a) {
    const out = tensor([1, a.height, a.width, 1]);
    const cols = patchCount(a.width, a);
    const colsCovering = Array.from({ length: a.width }, (_, px) => coveringPatches(px, a.width, a));
    for (let y = 0; y < a.height; y++) {
      const rows = coveringPatches(y, a.height, a);
      for (let px = 0; px < a.width; px++) {
        let sum = 0;
        for (const r of rows) for (const c of colsCovering[px]) sum += x.data[r * cols + c];
        out.data[y * a.width + px] = sum / (rows.length * colsCovering[px].length);
      }
    }
    return out;
  },
  gpu: {
    variant: () => "",
    uniforms: (a) => patchUniforms(a),
    source: () => `${PATCH_GRID_GLSL}
vec4 run(ivec4 o) {
  int h = u_out_shape.y, w = u_out_shape.z;
  int rows = patchCount(h), cols = patchCount(w);
  int firstRow = o.y - u_patch + 1 <= 0 ? 0 : (o.y - u_patch + u_patch_stride) / u_patch_stride;
  int firstCol = o.z - u_patch + 1 <= 0 ? 0 : (o.z - u_patch + u_patch_stride) / u_patch_stride;
  float sum = 0.0, count = 0.0;
  for (int r = firstRow; r < rows; r++) {
    int ry = patchStart(r, h);
    if (ry > o.y) break;
    if (ry + u_patch <= o.y) continue;
    for (int c = firstCol; c < cols; c++) {
      int cx = patchStart(c, w);
      if (cx > o.z) break;
      if (cx + u_patch <= o.z) continue;
      sum += fetch0(r * cols + c, 0, 0, 0).x;
      count += 1.0;
    }
  }
  return vec4(sum / count, 0.0, 0.0, 0.0);
}`,
  },
};
