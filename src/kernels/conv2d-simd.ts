/**
 * The CPU path's fast convolution: conv2d-simd.as.ts, compiled to WebAssembly
 * SIMD, fed from JavaScript. Each call copies a band of the input (zero-padded,
 * so the kernel never checks bounds) and the layer's weights into the module's
 * memory, runs the kernel on a chunk of output rows, and copies the rows back.
 * The copies are cheap next to the work: every input value feeds kh·kw·cout
 * multiply-adds. Transposed convolutions (the U-Net's decoder) run as one
 * ordinary convolution per output phase (transposedRows).
 *
 * Its sums are float32 (the reference sums in float64), so it matches the
 * reference within float32 rounding, not bit for bit. Any split of the rows
 * (worker threads) gives bit-identical results: each output value is summed in
 * the same order whatever the band.
 */
import { activate, LEAKY_SLOPE, type Activation } from "./activation.js";
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
  try {
    const memory = new WebAssembly.Memory({ initial: 1 });
    const instance = new WebAssembly.Instance(new WebAssembly.Module(code), { env: { memory, abort: () => undefined } });
    kernel = { memory, conv: instance.exports.conv as SimdKernel["conv"] };
  } catch {
    // A page whose Content-Security-Policy forbids compiling WebAssembly: the reference loops remain.
  }
  return kernel;
}

/** Whether this JavaScript engine runs WebAssembly with 128-bit SIMD. */
export function simdAvailable(): boolean {
  return simdKernel() !== null;
}

/** Whether convRowsSimd computes this job (else the reference loops do): gathers, and transposed convs without dilation. */
export function simdComputes(job: Pick<ConvJob, "direction" | "attrs">): boolean {
  return job.direction === "gather" || (job.attrs.dilation[0] === 1 && job.attrs.dilation[1] === 1);
}

/** Computes output rows [rowStart, rowEnd) (numbered b·outHeight + y) of a conv job into job.out with the SIMD kernel. */
export function convRowsSimd(job: ConvJob, rowStart: number, rowEnd: number): void {
  const k = simdKernel();
  if (!k) throw new Error("blurmap: this JavaScript engine has no WebAssembly SIMD; use the reference CPU convolution");
  if (!simdComputes(job)) throw new Error("blurmap: the SIMD convolution does not do dilated transposed convolutions");
  const oh = job.outShape[1];
  // Bands never span two images of a batch: a band's input rows are one image's.
  for (let row = rowStart; row < rowEnd; ) {
    const b = Math.floor(row / oh);
    const end = Math.min(rowEnd, (b + 1) * oh);
    if (job.direction === "gather") gatherRows(k, job, b, row - b * oh, end - b * oh);
    else transposedRows(k, job, b, row - b * oh, end - b * oh);
    row = end;
  }
}

/** One kernel call's geometry: output rows × width from the input band starting at (top, left) of image b. */
interface Band {
  readonly b: number;
  readonly top: number;
  readonly left: number;
  readonly rows: number;
  readonly width: number;
  readonly kernel: readonly [number, number];
  readonly stride: readonly [number, number];
  readonly dilation: readonly [number, number];
}

/** Output channels rounded up to whole 8-channel blocks, as the kernel writes them. */
const channels8 = (job: ConvJob) => Math.ceil(job.outShape[3] / 8) * 8;

const rowsPerCall = (width: number, cout8: number) => Math.max(1, Math.floor(CHUNK_BYTES / (width * cout8 * 4)));

/** Rows y0 .. y1 − 1 of image b, a chunk of rows per call, copied back as they are. */
function gatherRows(k: SimdKernel, job: ConvJob, b: number, y0: number, y1: number): void {
  const { outShape, attrs: a, out } = job;
  const [, oh, ow, cout] = outShape;
  const cout8 = channels8(job);
  for (let y = y0; y < y1; y += rowsPerCall(ow, cout8)) {
    const rows = Math.min(y1 - y, rowsPerCall(ow, cout8));
    const band: Band = { b, top: y * a.stride[0] - a.pad[0], left: -a.pad[1], rows, width: ow, kernel: a.kernel, stride: a.stride, dilation: a.dilation };
    const result = runBand(k, job, band, job.blocked);
    const dst = (b * oh + y) * ow * cout;
    if (cout === cout8) out.set(result, dst);
    else for (let p = 0; p < rows * ow; p++) out.set(result.subarray(p * cout8, p * cout8 + cout), dst + p * cout);
    finishActivation(job, dst, dst + rows * ow * cout);
  }
}

/**
 * A transposed conv with stride s, split into s×s ordinary convolutions (one per
 * output phase: rows ≡ py, columns ≡ px mod s), each with the kernel taps that
 * land on that phase, flipped. No multiply-add is spent on the zeros a
 * "dilate the input" formulation would insert. Rows y0 .. y1 − 1 of image b.
 */
function transposedRows(k: SimdKernel, job: ConvJob, b: number, y0: number, y1: number): void {
  const { outShape, attrs: a, out } = job;
  const [, oh, ow, cout] = outShape;
  const cout8 = channels8(job);
  for (let py = 0; py < a.stride[0]; py++) {
    const rowTaps = phaseTaps(py, a.pad[0], a.kernel[0], a.stride[0]);
    // Output rows py + s·q in [y0, y1).
    const q0 = Math.max(0, Math.ceil((y0 - py) / a.stride[0]));
    const q1 = Math.ceil((y1 - py) / a.stride[0]);
    for (let px = 0; px < a.stride[1]; px++) {
      const colTaps = phaseTaps(px, a.pad[1], a.kernel[1], a.stride[1]);
      const width = Math.ceil((ow - px) / a.stride[1]);
      if (width <= 0) continue;
      const weights = phaseWeights(job, rowTaps.taps, colTaps.taps);
      for (let q = q0; q < q1; q += rowsPerCall(width, cout8)) {
        const rows = Math.min(q1 - q, rowsPerCall(width, cout8));
        const kernel: [number, number] = [rowTaps.taps.length, colTaps.taps.length];
        const band: Band = { b, top: q + rowTaps.offset, left: colTaps.offset, rows, width, kernel, stride: [1, 1], dilation: [1, 1] };
        const result = runBand(k, job, band, weights);
        for (let r = 0; r < rows; r++)
          for (let c = 0; c < width; c++) {
            const dst = ((b * oh + py + a.stride[0] * (q + r)) * ow + px + a.stride[1] * c) * cout;
            const from = (r * width + c) * cout8;
            out.set(result.subarray(from, from + cout), dst);
            finishActivation(job, dst, dst + cout);
          }
      }
    }
  }
}

/**
 * The taps of a transposed conv's kernel axis (stride s, no dilation) that land
 * on output phase p, as an ordinary conv: output p + s·q reads input
 * q + offset + j through tap taps[j]. (Input (o + pad − t)/s when that divides.)
 */
export function phaseTaps(p: number, pad: number, k: number, s: number): { taps: number[]; offset: number } {
  const first = (((p + pad) % s) + s) % s;
  const taps: number[] = [];
  for (let t = first; t < k; t += s) taps.unshift(t); // largest tap first: it reads the lowest input row
  const offset = taps.length ? (p + pad - taps[0]) / s : 0;
  return { taps, offset };
}

/** The blocked weights ([out block][ky][kx][in][8]) of the chosen taps only, in the order given. */
function phaseWeights(job: ConvJob, rowTaps: readonly number[], colTaps: readonly number[]): Float32Array {
  const [kh, kw] = job.attrs.kernel;
  const cin = job.x.shape[3];
  const blocks = Math.ceil(job.outShape[3] / 8);
  const run = cin * 8;
  const sub = new Float32Array(blocks * rowTaps.length * colTaps.length * run);
  let at = 0;
  for (let ob = 0; ob < blocks; ob++)
    for (const ky of rowTaps)
      for (const kx of colTaps) {
        const from = ((ob * kh + ky) * kw + kx) * run;
        sub.set(job.blocked.subarray(from, from + run), at);
        at += run;
      }
  return sub;
}

/** The kernel's activations are ReLU and leaky ReLU; any other is applied to out[from, to) here. */
function finishActivation(job: ConvJob, from: number, to: number): void {
  const act = job.attrs.activation;
  if (act === "none" || rectifies(act)) return;
  for (let i = from; i < to; i++) job.out[i] = activate(job.out[i], act);
}

const rectifies = (act: Activation) => act === "relu" || act === "leaky_relu";

/**
 * Copies the band of image b (zero where it reaches past the image), the
 * weights and the bias into the module's memory, runs the kernel, and returns
 * its output [rows][width][cout8] (a view of the module's memory: copy it out
 * before the next call).
 */
function runBand(k: SimdKernel, job: ConvJob, band: Band, weights: Float32Array): Float32Array {
  const { x, bias, attrs: a } = job;
  const [, h, w, cin] = x.shape;
  const cout8 = channels8(job);
  const [kh, kw] = band.kernel;
  const [sy, sx] = band.stride;
  const [dy, dx] = band.dilation;
  const bandRows = Math.max(0, (band.rows - 1) * sy + (kh - 1) * dy + 1);
  const bandWidth = Math.max(0, (band.width - 1) * sx + (kw - 1) * dx + 1);
  const inputAt = 0;
  const weightsAt = inputAt + bandRows * bandWidth * cin * 4;
  const biasAt = weightsAt + weights.length * 4;
  const outputAt = biasAt + cout8 * 4;
  const f32 = memoryFor(k, outputAt + band.rows * band.width * cout8 * 4);

  f32.fill(0, inputAt / 4, weightsAt / 4);
  const x0 = Math.max(0, band.left);
  const x1 = Math.min(w, band.left + bandWidth);
  for (let r = 0; r < bandRows; r++) {
    const iy = band.top + r;
    if (iy < 0 || iy >= h || x1 <= x0) continue;
    const from = ((band.b * h + iy) * w + x0) * cin;
    f32.set(x.data.subarray(from, from + (x1 - x0) * cin), inputAt / 4 + (r * bandWidth + (x0 - band.left)) * cin);
  }
  f32.set(weights, weightsAt / 4);
  f32.fill(0, biasAt / 4, outputAt / 4);
  if (bias) f32.set(bias, biasAt / 4);

  const slope = a.activation === "leaky_relu" ? LEAKY_SLOPE : 0;
  k.conv(inputAt, weightsAt, biasAt, outputAt, band.rows, band.width, bandWidth, cin, cout8, kh, kw, sy, sx, dy, dx, rectifies(a.activation) ? 1 : 0, slope);
  return f32.subarray(outputAt / 4, outputAt / 4 + band.rows * band.width * cout8);
}

/** A float view of the module's memory, grown to at least `size` bytes first. */
function memoryFor(k: SimdKernel, size: number): Float32Array {
  const missing = size - k.memory.buffer.byteLength;
  if (missing > 0) k.memory.grow(Math.ceil(missing / PAGE_BYTES));
  return new Float32Array(k.memory.buffer);
}
