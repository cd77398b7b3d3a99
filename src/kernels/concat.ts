/**
 * Concatenation along channels (PyTorch torch.cat(dim=1)). Channel counts need
 * not be multiples of 4: each output channel is looked up in whichever input
 * holds it.
 */
import { shapeString } from "./layout.js";
import { tensor, type Kernel } from "./kernel.js";

export const concat: Kernel<Record<string, never>> = {
  op: "concat",
  outputShape([a, b]) {
    if (a[0] !== b[0] || a[1] !== b[1] || a[2] !== b[2]) throw new Error(`concat: spatial shapes differ, ${shapeString(a)} vs ${shapeString(b)}`);
    return [a[0], a[1], a[2], a[3] + b[3]];
  },
  cpu([a, b]) {
    const [n, h, w, ca] = a.shape;
    const cb = b.shape[3];
    const out = tensor([n, h, w, ca + cb]);
    for (let p = 0; p < n * h * w; p++) {
      out.data.set(a.data.subarray(p * ca, (p + 1) * ca), p * (ca + cb));
      out.data.set(b.data.subarray(p * cb, (p + 1) * cb), p * (ca + cb) + ca);
    }
    return out;
  },
  gpu: {
    variant: () => "",
    source: () => `
float channel(ivec4 o, int c) {
  if (c < u_in0_shape.w) return fetch0(o.x, o.y, o.z, c / 4)[c % 4];
  c -= u_in0_shape.w;
  return c < u_in1_shape.w ? fetch1(o.x, o.y, o.z, c / 4)[c % 4] : 0.0;
}
vec4 run(ivec4 o) {
  int c = o.w * 4;
  return vec4(channel(o, c), channel(o, c + 1), channel(o, c + 2), channel(o, c + 3));
}`,
  },
};
