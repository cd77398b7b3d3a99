/**
 * What every op module in src/kernels/ exports: a Kernel, holding the op's
 * shape rule, its plain-TypeScript CPU reference and its WebGL2 fragment pass.
 */
import type { Shape } from "./layout.js";

/** A CPU tensor: NHWC floats. */
export interface Tensor {
  readonly shape: Shape;
  readonly data: Float32Array;
}

/** A weight tensor in PyTorch's own layout (e.g. OIHW for a conv). */
export interface Param {
  readonly shape: readonly number[];
  readonly data: Float32Array;
}

export type Params = Readonly<Record<string, Param>>;

/** A constant texture (packed weights) a GPU pass reads. */
export interface PackedTexture {
  readonly width: number;
  readonly height: number;
  readonly data: Float32Array;
}

export type UniformValue = number | readonly number[];

/**
 * A fragment computes `pixels` output pixels of its row, `step` columns apart:
 * for block j, pixel k is column (j div step)·step·pixels + (j mod step) + k·step.
 * (step 1: neighbouring pixels; a transposed conv's stride: pixels of one phase,
 * which all use the same kernel taps.)
 */
export interface Blocking {
  readonly pixels: number;
  readonly step: number;
  /**
   * Blocking here is worth its memory only where it costs none: the executor
   * blocks the node only if the texture plan does not grow (planBlocked in
   * graph/plan.ts). Its scratch textures hold as much as its output.
   */
  readonly optional?: boolean;
}

export interface GpuPass<A> {
  /** Part of the shader cache key: everything that changes the GLSL. Never a size. */
  variant(attrs: A): string;
  /** Fragment body (see prelude.ts for the helpers it may call); `pixels` per fragment, as blocking() chose. */
  source(attrs: A, inputCount: number, pixels: number): string;
  /**
   * Several output pixels per fragment along x (register blocking), or null for
   * one. source() then writes the blocked form of run() (prelude.ts) and the
   * executor interleaves the result (interleave-columns.ts).
   */
  blocking?(attrs: A, inputs: readonly Shape[], output: Shape): Blocking | null;
  /** Uniforms beyond the per-tensor shape uniforms the executor sets itself (`output`: what this pass draws, blocked where it blocks). */
  uniforms?(attrs: A, inputs: readonly Shape[], output: Shape): Record<string, UniformValue>;
  /** Weights as textures, packed once at load time. */
  pack?(params: Params, attrs: A, inputs: readonly Shape[]): Record<string, PackedTexture>;
}

/**
 * How the CPU path computes convolutions: "reference", the plain-TypeScript
 * loops every other path is checked against, or "simd", the WebAssembly SIMD
 * kernel (conv2d-simd.ts), many times faster and equal to the reference within
 * float32 rounding.
 */
export type CpuConv = "reference" | "simd";

export interface CpuOptions {
  readonly conv: CpuConv;
}

export const REFERENCE: CpuOptions = { conv: "reference" };

export interface Kernel<A = unknown> {
  readonly op: string;
  outputShape(inputs: readonly Shape[], attrs: A): Shape;
  /** Only convolutions read `options` (default REFERENCE); every other op has one CPU implementation. */
  cpu(inputs: readonly Tensor[], attrs: A, params: Params, options?: CpuOptions): Tensor;
  gpu: GpuPass<A>;
}

export function tensor(shape: Shape, data?: Float32Array): Tensor {
  const size = shape[0] * shape[1] * shape[2] * shape[3];
  if (data && data.length !== size) throw new Error(`tensor data has ${data.length} values, shape ${shape.join("x")} needs ${size}`);
  return { shape, data: data ?? new Float32Array(size) };
}
