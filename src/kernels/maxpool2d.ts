/** Max-pool, k×k window, stride k, floor rounding (PyTorch max_pool2d(x, k)). */
import type { Shape } from "./layout.js";
import { tensor, type Kernel } from "./kernel.js";

export interface PoolAttrs {
  readonly size: number;
}

export const maxpool2d: Kernel<PoolAttrs> = {
  op: "maxpool2d",
  outputShape([x], a) {
    const out: Shape = [x[0], Math.floor(x[1] / a.size), Math.floor(x[2] / a.size), x[3]];
    if (out[1] < 1 || out[2] < 1) throw new Error(`maxpool2d: input ${x[2]}×${x[1]} (width×height) is smaller than the ${a.size}×${a.size} window`);
    return out;
  },
  cpu([x], a) {
    const [n, h, w, c] = x.shape;
    const shape = maxpool2d.outputShape([x.shape], a);
    const [, oh, ow] = shape;
    const out = tensor(shape);
    for (let b = 0; b < n; b++)
      for (let y = 0; y < oh; y++)
        for (let xx = 0; xx < ow; xx++)
          for (let ch = 0; ch < c; ch++) {
            let m = -Infinity;
            for (let dy = 0; dy < a.size; dy++)
              for (let dx = 0; dx < a.size; dx++) m = Math.max(m, x.data[((b * h + y * a.size + dy) * w + xx * a.size + dx) * c + ch]);
            out.data[((b * oh + y) * ow + xx) * c + ch] = m;
          }
    return out;
  },
  gpu: {
    variant: () => "",
    uniforms: (a) => ({ u_size: a.size }),
    source: () => `
uniform int u_size;
vec4 run(ivec4 o) {
  vec4 m = vec4(-3.4e38);
  for (int dy = 0; dy < u_size; dy++)
    for (int dx = 0; dx < u_size; dx++)
      m = max(m, fetch0(o.x, o.y * u_size + dy, o.z * u_size + dx, o.w));
  return m;
}`,
  },
};
