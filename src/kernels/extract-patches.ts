/**
 * Cut an image [1, H, W, C] into overlapping P×P patches [N, P, P, C] for the
 * patch classifier. Patches sit on a grid with step `stride`; the last row and
 * column are pulled back to end at the image edge, so every pixel is covered.
 * Patch n is grid cell (n / cols, n % cols). average-patches.ts undoes this.
 */
import { tensor, type Kernel } from "./kernel.js";

export interface PatchAttrs {
  readonly size: number;
  readonly stride: number;
}

/** Number of patch positions along an axis of length `length`. */
export function patchCount(length: number, a: PatchAttrs): number {
  return length <= a.size ? 1 : Math.ceil((length - a.size) / a.stride) + 1;
}

/** Start of the i-th patch along an axis. */
export function patchStart(i: number, length: number, a: PatchAttrs): number {
  return Math.min(i * a.stride, length - a.size);
}

/** GLSL twins of patchCount / patchStart, for both patch passes. */
export const PATCH_GRID_GLSL = `
uniform int u_patch, u_patch_stride;
int patchCount(int length) { return length <= u_patch ? 1 : (length - u_patch + u_patch_stride - 1) / u_patch_stride + 1; }
int patchStart(int i, int length) { return min(i * u_patch_stride, length - u_patch); }`;

export function patchUniforms(a: PatchAttrs) {
  return { u_patch: a.size, u_patch_stride: a.stride };
}

export const extractPatches: Kernel<PatchAttrs> = {
  op: "extract_patches",
  outputShape([x], a) {
    if (x[0] !== 1) throw new Error(`extract_patches: expects one image, got a batch of ${x[0]}`);
    if (x[1] < a.size || x[2] < a.size) throw new Error(`extract_patches: image ${x[2]}×${x[1]} (width×height) is smaller than the ${a.size}×${a.size} patch`);
    return [patchCount(x[1], a) * patchCount(x[2], a), a.size, a.size, x[3]];
  },
  cpu([x], a) {
    const [, h, w, c] = x.shape;
    const shape = extractPatches.outputShape([x.shape], a);
    const out = tensor(shape);
    const cols = patchCount(w, a);
    for (let n = 0; n < shape[0]; n++) {
      const py = patchStart(Math.floor(n / cols), h, a);
      const px = patchStart(n % cols, w, a);
      for (let y = 0; y < a.size; y++) {
        const src = ((py + y) * w + px) * c;
        out.data.set(x.data.subarray(src, src + a.size * c), (n * a.size + y) * a.size * c);
      }
    }
    return out;
  },
  gpu: {
    variant: () => "",
    uniforms: (a) => patchUniforms(a),
    source: () => `${PATCH_GRID_GLSL}
vec4 run(ivec4 o) {
  int cols = patchCount(u_in0_shape.z);
  int py = patchStart(o.x / cols, u_in0_shape.y);
  int px = patchStart(o.x % cols, u_in0_shape.z);
  return fetch0(0, py + o.y, px + o.z, o.w);
}`,
  },
};
