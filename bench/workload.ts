/** What every engine in the benchmark is given, and how much work it is. */
import type { Graph, Node } from "../src/graph/ir.js";
import type { ConvAttrs } from "../src/kernels/conv2d.js";
import type { Tensor } from "../src/kernels/kernel.js";

/**
 * A deterministic photo-like input, already normalised: smooth gradients plus a
 * little texture. bench/pytorch_dbm.py builds the same one.
 */
/** The middle value (the upper one of an even count). */
export const median = (xs: readonly number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

export function benchInput(size: number): Tensor {
  const data = new Float32Array(size * size * 3);
  for (let y = 0; y < size; y++)
    for (let x = 0; x < size; x++)
      for (let c = 0; c < 3; c++) data[(y * size + x) * 3 + c] = Math.sin((x * (c + 1)) / 17) * Math.cos(y / 23) + 0.3 * Math.sin(x * y * 0.01);
  return { shape: [1, size, size, 3], data };
}

/** Floating-point operations of a node (a multiply-add counts 2), for GFLOP/s. 0 for ops that only move data. */
export function nodeFlops(node: Node, graph: Graph): number {
  const out = graph.shapes.get(node.name)!;
  const input = graph.shapes.get(node.inputs[0])!;
  if (node.op === "conv2d") {
    const a = node.attrs as ConvAttrs;
    return 2 * out[0] * out[1] * out[2] * out[3] * input[3] * a.kernel[0] * a.kernel[1];
  }
  if (node.op === "conv_transpose2d") {
    const a = node.attrs as ConvAttrs;
    return 2 * input[0] * input[1] * input[2] * input[3] * out[3] * a.kernel[0] * a.kernel[1];
  }
  if (node.op === "dense") return 2 * input[0] * input[1] * input[2] * input[3] * out[3];
  return 0;
}
