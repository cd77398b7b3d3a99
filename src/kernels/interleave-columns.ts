/**
 * Puts the columns of a register-blocked pass back in order. That pass wrote
 * pixel k of each block into input k (see Blocking in kernel.ts): input k's
 * column j holds output column (j div step)·step·P + (j mod step) + k·step,
 * for P inputs. The executor runs this pass right after such a pass.
 */
import { shapeString } from "./layout.js";
import { tensor, type Kernel } from "./kernel.js";

export interface InterleaveAttrs {
  /** Width of the interleaved output. */
  readonly width: number;
  /** Columns between the pixels of one block. */
  readonly step: number;
}

/** Columns of each blocked input for an output `width` wide, `pixels` per block, `step` apart. */
export function blockedWidth(width: number, pixels: number, step: number): number {
  return Math.ceil(width / (step * pixels)) * step;
}

/** Where output column x lives: input k, column j. */
function sourceColumn(x: number, pixels: number, step: number): { k: number; j: number } {
  const block = step * pixels;
  const within = x % block;
  return { k: Math.floor(within / step), j: Math.floor(x / block) * step + (within % step) };
}

export const interleaveColumns: Kernel<InterleaveAttrs> = {
  op: "interleave_columns",
  outputShape(inputs, a) {
    const [n, h, w, c] = inputs[0];
    if (w !== blockedWidth(a.width, inputs.length, a.step) || inputs.some((s) => s.some((d, i) => d !== inputs[0][i])))
      throw new Error(`interleave_columns: ${inputs.length} inputs of ${inputs.map(shapeString).join(", ")} do not make width ${a.width} at step ${a.step}`);
    return [n, h, a.width, c];
  },
  cpu(inputs, a) {
    const shape = interleaveColumns.outputShape(inputs.map((t) => t.shape), a);
    const [n, h, w, c] = shape;
    const pw = inputs[0].shape[2];
    const out = tensor(shape);
    for (let y = 0; y < n * h; y++)
      for (let x = 0; x < w; x++) {
        const { k, j } = sourceColumn(x, inputs.length, a.step);
        const from = (y * pw + j) * c;
        out.data.set(inputs[k].data.subarray(from, from + c), (y * w + x) * c);
      }
    return out;
  },
  gpu: {
    variant: () => "",
    uniforms: (a) => ({ u_step: a.step }),
    source: (_, inputCount) => `
uniform int u_step;
vec4 run(ivec4 o) {
  int block = u_step * ${inputCount};
  int within = o.z % block;
  int k = within / u_step, j = (o.z / block) * u_step + within % u_step;
  ${Array.from({ length: inputCount - 1 }, (_, k) => `if (k == ${k}) return fetch${k}(o.x, o.y, j, o.w);`).join("\n  ")}
  return fetch${inputCount - 1}(o.x, o.y, j, o.w);
}`,
  },
};
