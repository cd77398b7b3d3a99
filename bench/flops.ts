/** Floating-point operations of a node (a multiply-add counts 2), for GFLOP/s. 0 for ops that only move data. */
import type { Graph, Node } from "../src/graph/ir.js";
import type { ConvAttrs } from "../src/kernels/conv2d.js";

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
