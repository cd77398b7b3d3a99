/**
 * Binds weights files to a graph: every tensor the graph's nodes ask for must
 * be there with the right shape, every tensor in the files must be used, and no
 * value may be NaN or infinite. BatchNorm (eval mode) is folded into the
 * preceding conv here, so the passes never see it:
 *   w' = w·γ/√(var+ε),  b' = (b − mean)·γ/√(var+ε) + β.
 */
import type { BoundParams } from "../graph/cpu-executor.js";
import type { Graph, ParamSpec } from "../graph/ir.js";
import type { Param, Params } from "../kernels/kernel.js";
import { ARCHITECTURE_VERSION, type ModelInfo } from "./metadata.js";
import { WeightsError, type SafetensorsFile, type StoredTensor } from "./safetensors.js";

export const BATCHNORM_EPS = 1e-5; // PyTorch's BatchNorm2d default, which training used

export interface WeightsFile extends SafetensorsFile {
  /** Shown in every error about this file. */
  readonly name: string;
  readonly info: ModelInfo;
}

export function bindWeights(graph: Graph, files: ReadonlyMap<string, WeightsFile>): BoundParams {
  const used = new Map<WeightsFile, Set<string>>();
  const bound = new Map<string, Params>();
  for (const node of graph.nodes) {
    if (!node.params) continue;
    const file = files.get(node.params.file);
    if (!file) throw new Error(`blurmap: the graph needs a "${node.params.file}" weights file, and none was given`);
    if (!used.has(file)) used.set(file, new Set());
    const take = (name: string, shape: readonly number[]): Param => {
      const t = file.tensors.get(name);
      if (!t) throw new WeightsError(file.name, `missing tensor "${name}" (shape [${shape.join(", ")}]) needed by layer "${node.name}"`);
      if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i]))
        throw new WeightsError(file.name, `tensor "${name}" has shape [${t.shape.join(", ")}], layer "${node.name}" expects [${shape.join(", ")}]`);
      checkFinite(file.name, name, t);
      used.get(file)!.add(name);
      return { shape: t.shape, data: t.data };
    };
    // conv2d and dense keep output channels on axis 0, a transposed conv on axis 1
    const outAxis = node.op === "conv_transpose2d" ? 1 : 0;
    bound.set(node.name, bindNode(node.params, outAxis, take));
  }
  for (const [file, names] of used)
    for (const name of file.tensors.keys())
      if (!names.has(name))
        throw new WeightsError(file.name, `unexpected tensor "${name}": not part of the "${file.info.model}" architecture (v${ARCHITECTURE_VERSION}); is this file for another model or version?`);
  return bound;
}

function bindNode(spec: ParamSpec, outAxis: number, take: (name: string, shape: readonly number[]) => Param): Params {
  const outChannels = spec.weightShape[outAxis];
  const weight = take(`${spec.prefix}.weight`, spec.weightShape);
  const bias = take(`${spec.prefix}.bias`, [outChannels]);
  if (!spec.batchNorm) return { weight, bias };
  const bn = (field: string) => take(`${spec.batchNorm}.${field}`, [outChannels]).data;
  const [gamma, beta, mean, variance] = ["weight", "bias", "running_mean", "running_var"].map(bn);
  const scale = gamma.map((g, o) => g / Math.sqrt(variance[o] + BATCHNORM_EPS));
  const w = new Float32Array(weight.data);
  const inner = spec.weightShape.slice(outAxis + 1).reduce((a, b) => a * b, 1);
  for (let i = 0; i < w.length; i++) w[i] *= scale[Math.floor(i / inner) % outChannels];
  const b = bias.data.map((v, o) => (v - mean[o]) * scale[o] + beta[o]);
  return { weight: { shape: weight.shape, data: w }, bias: { shape: bias.shape, data: b } };
}

function checkFinite(file: string, name: string, t: StoredTensor): void {
  const i = t.data.findIndex((v) => !Number.isFinite(v));
  if (i >= 0) throw new WeightsError(file, `tensor "${name}" holds ${t.data[i]} at element ${i}: weights must be finite`);
}
