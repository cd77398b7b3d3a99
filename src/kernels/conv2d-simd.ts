/**
 * The CPU path's fast convolution: conv2d-simd.as.ts, compiled to WebAssembly
 * SIMD, fed from JavaScript. Each call copies a band of the input (zero-padded,
 * so the kernel never checks bounds) and the layer's weights into the module's
 * memory, runs the kernel a chunk of output rows at a time, and copies the rows
 * back. The copies are cheap next to the work: every input value feeds
 * kh·kw·cout multiply-adds.
 *
 * Its sums are float32 (the reference sums in float64), so it matches the
 * reference within float32 rounding, not bit for bit. Any split of the rows
 * (worker threads) gives bit-identical results: each output value is summed in
 * the same order whatever the band.
 */
import { activate, LEAKY_SLOPE } from "./activation.js";
import { CONV2D_SIMD_WASM } from "./generated/conv2d-simd.wasm.js";
import type { ConvJob } from "./conv2d.js";

interface SimdKernel {
  readonly memory: WebAssembly.Memory;
  readonly conv: (
    input: number, weights: number, bias: number, output: number,
    rows: number, outWidth: number, inWidth: number, cin: number, cout8: number,
    kh: number, kw: number, sy: number, sx: number, dy: number, dx: number,
    rectify: number, slope: number,
  ) => void;
}

/** Output rows per kernel call are chosen to keep each output chunk near this size. */
const CHUNK_BYTES = 4 << 20;
const PAGE_BYTES = 65536;

let kernel: SimdKernel | null | undefined;

function bytes(): Uint8Array<ArrayBuffer> {
  const text = atob(CONV2D_SIMD_WASM);
  return Uint8Array.from(text, (c) => c.charCodeAt(0));
}

/** Compiles the module on first use (one per thread); null where WebAssembly SIMD is missing. */
function simdKernel(): SimdKernel | null {
  if (kernel !== undefined) return kernel;
  kernel = null;
  if (typeof WebAssembly === "undefined") return kernel;
  const code = bytes();
  if (!WebAssembly.validate(code)) return kernel;
  const memory = new WebAssembly.Memory({ initial: 1 });
  const instance = new WebAssembly.Instance(new WebAssembly.Module(code), { env: { memory, abort: () => undefined } });
  kernel = { memory, conv: instance.exports.conv as SimdKernel["conv"] };
  return kernel;
}

/** Whether this JavaScript engine runs WebAssembly with 128-bit SIMD. */
export function simdAvailable(): boolean {
  return simdKernel() !== null;
}

/** Computes output rows [rowStart, rowEnd) of a (gather) conv job into job.out with the SIMD kernel. */
export function convRowsSimd(job: ConvJob, rowStart: number, rowEnd: number): void {
  const k = simdKernel();
  if (!k) throw new Error("blurmap: this JavaScript engine has no WebAssembly SIMD; use the reference CPU convolution");
  const [, oh, ow, cout] = job.outShape;
  const cout8 = Math.ceil(cout / 8) * 8;
  const rowsPerChunk = Math.max(1, Math.floor(CHUNK_BYTES / (ow * cout8 * 4)));
  // One chunk never spans two images of a batch: its input band is one image's rows.
  for (let row = rowStart; row < rowEnd; ) {
    const b = Math.floor(row / oh);
    const end = Math.min(rowEnd, (b + 1) * oh, row + rowsPerChunk);
    convChunk(k, job, b, row - b * oh, end - row, cout8);
    row = end;
  }
}

/** Output rows y0 .. y0 + rows − 1 of image b. */
function convChunk(k: SimdKernel, job: ConvJob, b: number, y0: number, rows: number, cout8: number): void {
  const { x, outShape, blocked, bias, attrs: a, out } = job;
  const [, h, w, cin] = x.shape;
  const [, oh, ow, cout] = outShape;
  const [kh, kw] = a.kernel;
  const [sy, sx] = a.stride;
  const [dy, dx] = a.dilation;
  // The input band: rows top .. top + bandRows − 1 and columns left .. left + bandWidth − 1,
  // zero wherever that reaches into the padding.
  const top = y0 * sy - a.pad[0];
  const left = -a.pad[1];
  const bandRows = (rows - 1) * sy + (kh - 1) * dy + 1;
  const bandWidth = (ow - 1) * sx + (kw - 1) * dx + 1;
  const inputAt = 0;
  const weightsAt = inputAt + bandRows * bandWidth * cin * 4;
  const biasAt = weightsAt + blocked.length * 4;
  const outputAt = biasAt + cout8 * 4;
  const f32 = memoryFor(k, outputAt + rows * ow * cout8 * 4);

  f32.fill(0, inputAt / 4, weightsAt / 4);
  const x0 = Math.max(0, left);
  const x1 = Math.min(w, left + bandWidth);
  for (let r = 0; r < bandRows; r++) {
    const iy = top + r;
    if (iy < 0 || iy >= h || x1 <= x0) continue;
    const from = ((b * h + iy) * w + x0) * cin;
    f32.set(x.data.subarray(from, from + (x1 - x0) * cin), inputAt / 4 + (r * bandWidth + (x0 - left)) * cin);
  }
  f32.set(blocked, weightsAt / 4);
  f32.fill(0, biasAt / 4, outputAt / 4);
  if (bias) f32.set(bias, biasAt / 4);

  const rectify = a.activation === "relu" || a.activation === "leaky_relu";
  const slope = a.activation === "leaky_relu" ? LEAKY_SLOPE : 0;
  k.conv(inputAt, weightsAt, biasAt, outputAt, rows, ow, bandWidth, cin, cout8, kh, kw, sy, sx, dy, dx, rectify ? 1 : 0, slope);

  const dst = (b * oh + y0) * ow * cout;
  const result = f32.subarray(outputAt / 4, outputAt / 4 + rows * ow * cout8);
  if (cout === cout8) out.set(result, dst);
  else for (let p = 0; p < rows * ow; p++) out.set(result.subarray(p * cout8, p * cout8 + cout), dst + p * cout);
  if (!rectify && a.activation !== "none") for (let i = dst; i < dst + rows * ow * cout; i++) out[i] = activate(out[i], a.activation);
}

/** A float view of the module's memory, grown to at least `size` bytes first. */
function memoryFor(k: SimdKernel, size: number): Float32Array {
  const missing = size - k.memory.buffer.byteLength;
  if (missing > 0) k.memory.grow(Math.ceil(missing / PAGE_BYTES));
  return new Float32Array(k.memory.buffer);
}
