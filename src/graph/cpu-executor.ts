/**
 * Runs a graph on the CPU: every op's plain-TypeScript implementation, and for
 * convolutions the reference loops or the WebAssembly SIMD kernel (options.conv).
 */
import { kernelFor } from "../kernels/index.js";
import { REFERENCE, type CpuOptions, type Params, type Tensor } from "../kernels/kernel.js";
import { shapeString } from "../kernels/layout.js";
import type { Graph } from "./ir.js";

/** Folded weights of every node that has any, by node name (see weights/bind.ts). */
export type BoundParams = ReadonlyMap<string, Params>;

const NO_PARAMS: Params = {};

/** Throws unless `inputs` match the graph's inputs in number and shape. */
export function checkInputs(graph: Graph, inputs: readonly Tensor[]): void {
  if (inputs.length !== graph.inputs.length) throw new Error(`the graph takes ${graph.inputs.length} input(s), got ${inputs.length}`);
  graph.inputs.forEach((name, i) => {
    const expected = graph.shapes.get(name)!;
    if (inputs[i].shape.some((d, j) => d !== expected[j]))
      throw new Error(`input "${name}" has shape ${shapeString(inputs[i].shape)}, the graph expects ${shapeString(expected)}`);
  });
}

/** Returns the graph output and every tensor named in `keep`. */
export function runCpu(graph: Graph, params: BoundParams, inputs: readonly Tensor[], keep: readonly string[] = [], options: CpuOptions = REFERENCE): Map<string, Tensor> {
  checkInputs(graph, inputs);
  const lastUse = new Map<string, number>();
  graph.nodes.forEach((n, i) => n.inputs.forEach((t) => lastUse.set(t, i)));
  const wanted = new Set([...keep, graph.output]);
  const values = new Map<string, Tensor>(graph.inputs.map((name, i) => [name, inputs[i]]));
  graph.nodes.forEach((node, i) => {
    const inputs = node.inputs.map((t) => values.get(t)!);
    values.set(node.name, kernelFor(node.op).cpu(inputs, node.attrs, params.get(node.name) ?? NO_PARAMS, options));
    for (const t of node.inputs) if (lastUse.get(t) === i && !wanted.has(t)) values.delete(t);
  });
  return new Map([...wanted].map((t) => {
    const v = values.get(t);
    if (!v) throw new Error(`no tensor named "${t}" in the graph`);
    return [t, v];
  }));
}
