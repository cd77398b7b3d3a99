/**
 * Binds weights files to a graph: every tensor the graph's nodes ask for must
 * be there with the right shape, every tensor in the files must be used, and no
 * value may be NaN or infinite. BatchNorm (eval mode) is folded into the
 * preceding conv here (batchnorm.ts), so the passes never see it.
 */
import type { BoundParams } from "../graph/cpu-executor.js";
import type { Graph, ParamSpec } from "../graph/ir.js";
import type { Param, Params } from "../kernels/kernel.js";
import { BATCHNORM_FIELDS, foldBatchNorm } from "./batchnorm.js";
import { ARCHITECTURE_VERSION, type ModelInfo } from "./metadata.js";
import { WeightsError, type SafetensorsFile, type StoredTensor } from "./safetensors.js";

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
  const [gamma, beta, mean, variance] = BATCHNORM_FIELDS.map((field) => take(`${spec.batchNorm}.${field}`, [outChannels]).data);
  return foldBatchNorm(weight, bias, { gamma, beta, mean, variance }, outAxis);
}

function checkFinite(file: string, name: string, t: StoredTensor): void {
  const i = t.data.findIndex((v) => !Number.isFinite(v));
  if (i >= 0) throw new WeightsError(file, `tensor "${name}" holds ${t.data[i]} at element ${i}: weights must be finite`);
}
