/**
 * Interleaves the k = 0..P−1 column phases of a tensor back into one: output
 * column x comes from input x mod P, column ⌊x / P⌋. A pass that computes P
 * neighbouring pixels per fragment (conv2d's register blocking) writes phase k
 * into draw buffer k; the executor runs this pass after it.
 */
import { shapeString } from "./layout.js";
import { tensor, type Kernel } from "./kernel.js";

export interface InterleaveAttrs {
  /** Width of the interleaved output (the phases hold ⌈width / P⌉ columns each). */
  readonly width: number;
}

export const interleaveColumns: Kernel<InterleaveAttrs> = {
  op: "interleave_columns",
  outputShape(inputs, a) {
    const [n, h, w, c] = inputs[0];
    if (w !== Math.ceil(a.width / inputs.length) || inputs.some((s) => s.some((d, i) => d !== inputs[0][i])))
      throw new Error(`interleave_columns: ${inputs.length} phases of ${inputs.map(shapeString).join(", ")} do not make width ${a.width}`);
    return [n, h, a.width, c];
  },
  cpu(inputs, a) {
    const shape = interleaveColumns.outputShape(inputs.map((t) => t.shape), a);
    const [n, h, w, c] = shape;
    const p = inputs.length;
    const pw = inputs[0].shape[2];
    const out = tensor(shape);
    for (let y = 0; y < n * h; y++)
      for (let x = 0; x < w; x++) {
        const from = (y * pw + Math.floor(x / p)) * c;
        out.data.set(inputs[x % p].data.subarray(from, from + c), (y * w + x) * c);
      }
    return out;
  },
  gpu: {
    variant: () => "",
    source: (_, inputCount) => `
vec4 run(ivec4 o) {
  int phase = o.z % ${inputCount}, column = o.z / ${inputCount};
  ${Array.from({ length: inputCount - 1 }, (_, k) => `if (phase == ${k}) return fetch${k}(o.x, o.y, column, o.w);`).join("\n  ")}
  return fetch${inputCount - 1}(o.x, o.y, column, o.w);
}`,
  },
};
