/**
 * Folding an eval-mode BatchNorm into the conv before it:
 *   w' = w·γ/√(var+ε),  b' = (b − mean)·γ/√(var+ε) + β.
 * Used when loading (Purohit files keep their BatchNorm) and by
 * tools/convert-weights (the shipped DBM has none).
 */
import type { Param } from "../kernels/kernel.js";

export const BATCHNORM_EPS = 1e-5; // PyTorch's BatchNorm2d default, which training used

export interface BatchNorm {
  readonly gamma: Float32Array;
  readonly beta: Float32Array;
  readonly mean: Float32Array;
  readonly variance: Float32Array;
}

/** `outAxis`: where the weight keeps its output channels (0 for conv and dense, 1 for a transposed conv). */
export function foldBatchNorm(weight: Param, bias: Param, bn: BatchNorm, outAxis: number): { weight: Param; bias: Param } {
  const outChannels = weight.shape[outAxis];
  const scale = bn.gamma.map((g, o) => g / Math.sqrt(bn.variance[o] + BATCHNORM_EPS));
  const w = new Float32Array(weight.data);
  const inner = weight.shape.slice(outAxis + 1).reduce((a, b) => a * b, 1);
  for (let i = 0; i < w.length; i++) w[i] *= scale[Math.floor(i / inner) % outChannels];
  const b = bias.data.map((v, o) => (v - bn.mean[o]) * scale[o] + bn.beta[o]);
  return { weight: { shape: weight.shape, data: w }, bias: { shape: bias.shape, data: b } };
}

export const BATCHNORM_FIELDS = ["weight", "bias", "running_mean", "running_var"] as const;
