/**
 * Blur magnification's last step: each pixel moves from the photo towards a
 * blurred copy of it, as far as the blur map says it is already blurred:
 *
 *     out = mix(image, blurred.rgb / blurred.a, smoothstep(low, high, map))
 *
 * `blurred` carries a fourth channel that was all ones before blurring (a
 * normalised convolution), so dividing by it undoes the darkening that zero
 * padding causes near the borders. Inputs: image [n,h,w,3], blurred [n,h,w,4],
 * map [n,h,w,1]; output [n,h,w,3].
 */
import { tensor, type Kernel } from "./kernel.js";

export interface BlendAttrs {
  /** Map values up to `low` stay untouched; from `high` on, fully blurred. */
  readonly low: number;
  readonly high: number;
}

function smoothstep(low: number, high: number, v: number): number {
  const t = Math.min(Math.max((v - low) / (high - low), 0), 1);
  return t * t * (3 - 2 * t);
}

export const blendByMap: Kernel<BlendAttrs> = {
  op: "blend_by_map",
  outputShape([image, blurred, map]) {
    const same = (s: readonly number[]) => s[0] === image[0] && s[1] === image[1] && s[2] === image[2];
    if (image[3] !== 3 || blurred[3] !== 4 || map[3] !== 1 || !same(blurred) || !same(map))
      throw new Error(`blend_by_map: expected image [n,h,w,3], blurred [n,h,w,4], map [n,h,w,1]; got [${image}], [${blurred}], [${map}]`);
    return image;
  },
  cpu([image, blurred, map], a) {
    const out = tensor(image.shape);
    for (let p = 0; p < map.data.length; p++) {
      const alpha = smoothstep(a.low, a.high, map.data[p]);
      const weight = Math.max(blurred.data[p * 4 + 3], 1e-6);
      for (let c = 0; c < 3; c++) {
        const v = image.data[p * 3 + c];
        out.data[p * 3 + c] = v + (blurred.data[p * 4 + c] / weight - v) * alpha;
      }
    }
    return out;
  },
  gpu: {
    variant: () => "",
    uniforms: (a) => ({ u_low: a.low, u_high: a.high }),
    source: () => `
uniform float u_low, u_high;
vec4 run(ivec4 o) {
  vec4 image = fetch0(o.x, o.y, o.z, 0);
  vec4 blurred = fetch1(o.x, o.y, o.z, 0);
  float alpha = smoothstep(u_low, u_high, fetch2(o.x, o.y, o.z, 0).r);
  return vec4(mix(image.rgb, blurred.rgb / max(blurred.a, 1e-6), alpha), 0.0);
}`,
  },
};
