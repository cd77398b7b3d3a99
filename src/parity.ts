/**
 * The one comparison every parity check uses (after llm.c's validate_result):
 * element i passes when |actual − expected| ≤ abs + rel·|expected|. NaN never passes.
 */
export interface Tolerance {
  readonly abs: number;
  readonly rel: number;
}

/** fp32 GPU vs CPU, and CPU vs PyTorch. */
export const FP32_TOLERANCE: Tolerance = { abs: 1e-4, rel: 1e-3 };

/**
 * fp16 storage (RGBA16F textures) vs the fp32 CPU reference. fp16 keeps 11
 * significant bits, and its rounding compounds through the layers, so bounds
 * are relative to each tensor's range: |gpu − cpu| ≤ max(FP16_LAYER_BOUND · max|cpu|,
 * FP16_FLOOR) at every layer (the floor: values near 1e-5 are fp16 subnormals),
 * and ≤ FP16_MAP_BOUND on the final map (values in 0..1).
 */
export const FP16_LAYER_BOUND = 2e-2;
export const FP16_FLOOR = 1e-3;
export const FP16_MAP_BOUND = 1e-2;

export interface Comparison {
  readonly ok: boolean;
  readonly maxAbsError: number;
  readonly failures: number;
  readonly count: number;
  /** First failing element, for the message. */
  readonly firstFailure?: { readonly index: number; readonly actual: number; readonly expected: number };
}

export function compare(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: Tolerance): Comparison {
  if (actual.length !== expected.length)
    return { ok: false, maxAbsError: Infinity, failures: Math.max(actual.length, expected.length), count: expected.length };
  let maxAbsError = 0;
  let failures = 0;
  let firstFailure: Comparison["firstFailure"];
  for (let i = 0; i < expected.length; i++) {
    const err = Math.abs(actual[i] - expected[i]);
    if (err > maxAbsError || Number.isNaN(err)) maxAbsError = Number.isNaN(err) ? Infinity : err;
    if (!(err <= tol.abs + tol.rel * Math.abs(expected[i]))) {
      failures++;
      firstFailure ??= { index: i, actual: actual[i], expected: expected[i] };
    }
  }
  return { ok: failures === 0, maxAbsError, failures, count: expected.length, firstFailure };
}

export function describe(c: Comparison): string {
  const head = `max abs err ${c.maxAbsError.toExponential(2)} over ${c.count} values`;
  if (c.ok) return head;
  const f = c.firstFailure;
  return `${head}; ${c.failures} outside tolerance${f ? `, first at [${f.index}]: got ${f.actual}, expected ${f.expected}` : ""}`;
}
