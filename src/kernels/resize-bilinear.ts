/**
 * Bilinear resize to a given size, with PyTorch's convention
 * F.interpolate(x, size=(h, w), mode="bilinear", align_corners=False): output
 * pixel centres map to input coordinates src = (dst + 0.5)·(in/out) − 0.5,
 * clamped below at 0; the upper neighbour is clamped to the last pixel. No
 * antialiasing when shrinking (as in PyTorch's default).
 */
import { tensor, type Kernel } from "./kernel.js";

export interface ResizeAttrs {
  readonly height: number;
  readonly width: number;
}

/** For one output index: the two input indices and the weight of the second. */
export function bilinearTap(dst: number, inSize: number, outSize: number): [number, number, number] {
  const scale = inSize / outSize;
  const src = Math.max(0, (dst + 0.5) * scale - 0.5);
  const i0 = Math.min(Math.floor(src), inSize - 1);
  const i1 = Math.min(i0 + 1, inSize - 1);
  return [i0, i1, src - i0];
}

export const resizeBilinear: Kernel<ResizeAttrs> = {
  op: "resize_bilinear",
  outputShape: ([x], a) => [x[0], a.height, a.width, x[3]],
  cpu([x], a) {
    const [n, h, w, c] = x.shape;
    const out = tensor([n, a.height, a.width, c]);
    const at = (b: number, y: number, xx: number, ch: number) => x.data[((b * h + y) * w + xx) * c + ch];
    for (let b = 0; b < n; b++)
      for (let y = 0; y < a.height; y++) {
        const [y0, y1, ly] = bilinearTap(y, h, a.height);
        for (let xx = 0; xx < a.width; xx++) {
          const [x0, x1, lx] = bilinearTap(xx, w, a.width);
          for (let ch = 0; ch < c; ch++) {
            const top = at(b, y0, x0, ch) * (1 - lx) + at(b, y0, x1, ch) * lx;
            const bottom = at(b, y1, x0, ch) * (1 - lx) + at(b, y1, x1, ch) * lx;
            out.data[((b * a.height + y) * a.width + xx) * c + ch] = top * (1 - ly) + bottom * ly;
          }
        }
      }
    return out;
  },
  gpu: {
    variant: () => "",
    source: () => `
vec3 tap(int dst, int inSize, int outSize) {
  float src = max(0.0, (float(dst) + 0.5) * (float(inSize) / float(outSize)) - 0.5);
  int i0 = min(int(floor(src)), inSize - 1);
  return vec3(float(i0), float(min(i0 + 1, inSize - 1)), src - float(i0));
}
vec4 run(ivec4 o) {
  vec3 ty = tap(o.y, u_in0_shape.y, u_out_shape.y);
  vec3 tx = tap(o.z, u_in0_shape.z, u_out_shape.z);
  int y0 = int(ty.x), y1 = int(ty.y), x0 = int(tx.x), x1 = int(tx.y);
  vec4 top = mix(fetch0(o.x, y0, x0, o.w), fetch0(o.x, y0, x1, o.w), tx.z);
  vec4 bottom = mix(fetch0(o.x, y1, x0, o.w), fetch0(o.x, y1, x1, o.w), tx.z);
  return mix(top, bottom, ty.z);
}`,
  },
};
