/** Element-wise product of two tensors of the same shape (Purohit's fusion b = b1·b2). */
import { shapeString } from "./layout.js";
import { tensor, type Kernel } from "./kernel.js";

export const multiply: Kernel<Record<string, never>> = {
  op: "multiply",
  outputShape([a, b]) {
    if (a.some((d, i) => d !== b[i])) throw new Error(`multiply: shapes differ, ${shapeString(a)} vs ${shapeString(b)}`);
    return a;
  },
  cpu: ([a, b]) => tensor(a.shape, a.data.map((v, i) => v * b.data[i])),
  gpu: {
    variant: () => "",
    source: () => `vec4 run(ivec4 o) { return fetch0(o.x, o.y, o.z, o.w) * fetch1(o.x, o.y, o.z, o.w); }`,
  },
};
