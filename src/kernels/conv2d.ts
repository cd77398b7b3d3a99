/**
 * 2-D convolution (any kernel size, stride, padding, dilation; bias; fused
 * activation), and the pass and weight packing that conv-transpose2d.ts and
 * dense.ts reuse.
 *
 * GPU: a fragment computes four output channels of one pixel, or of up to
 * eight pixels of a row (register blocking: convBlocking, convRowPassSource).
 * For each kernel tap and input channel group it reads a 4×4 block of weights
 * (four texels W0..W3) and, per pixel, an input texel v, and does
 * acc += v.x·W0 + v.y·W1 + v.z·W2 + v.w·W3; a blocked pass reads each input
 * column its pixels share only once per kernel row.
 * Weights texture: texel (((ky·kw + kx)·groupsIn + gi)·4 + r, go) holds
 * w[out = 4go .. 4go+3][in = 4gi + r][ky][kx], in the order the pass reads
 * them; bias texture: texel (go, 0).
 */
import { activate, activationGlsl, type Activation } from "./activation.js";
import { channelGroups, type Shape } from "./layout.js";
import { convRowsSimd, simdComputes } from "./conv2d-simd.js";
import { REFERENCE, tensor, type Blocking, type CpuConv, type Kernel, type PackedTexture, type Param, type Tensor } from "./kernel.js";

export interface ConvAttrs {
  readonly outChannels: number;
  readonly kernel: readonly [number, number];
  readonly stride: readonly [number, number];
  readonly pad: readonly [number, number];
  readonly dilation: readonly [number, number];
  readonly activation: Activation;
}

/** Attributes of a square k×k conv; stride, padding and dilation default to 1, 0 and 1. */
export function convAttrs(outChannels: number, k: number, opts: Partial<Omit<ConvAttrs, "outChannels" | "kernel">> = {}): ConvAttrs {
  return {
    outChannels,
    kernel: [k, k],
    stride: opts.stride ?? [1, 1],
    pad: opts.pad ?? [0, 0],
    dilation: opts.dilation ?? [1, 1],
    activation: opts.activation ?? "none",
  };
}

/** Reads a weight as w(out, in, ky, kx), whatever its stored layout. */
export type WeightAccessor = (out: number, inp: number, ky: number, kx: number) => number;

export function convOutputSize(size: number, k: number, stride: number, pad: number, dilation: number): number {
  return Math.floor((size + 2 * pad - dilation * (k - 1) - 1) / stride) + 1;
}

/**
 * Output pixels per fragment for conv2d on the GPU (register blocking; the
 * executor takes fewer where the GPU has fewer draw buffers). On SwiftShader a
 * 64×64, 256 → 256 layer ran at 2.7 GFLOP/s with 1 pixel, 4.2 with 2, 5.8 with
 * 4 and 7.0 with 8 (bench/README.md).
 */
export const CONV_PIXELS = 8;

/**
 * conv2d's and conv_transpose2d's blocking: CONV_PIXELS pixels `step` columns
 * apart, fewer on narrow outputs. Optional with one input channel group (an RGB
 * image): such a layer's output is many times its input, so its scratch can set
 * the graph's peak memory (Purohit's patch net: 1.39× → 1.77× of the memory
 * goal's yardstick), though blocking makes it about 2× faster on SwiftShader
 * (DBM conv1_1 221 → 117 ms at 256²; bench/README.md).
 */
export function convBlocking([, , , cin]: Shape, outWidth: number, step: number): Blocking | null {
  const pixels = Math.min(CONV_PIXELS, Math.ceil(outWidth / step));
  return pixels < 2 ? null : { pixels, step, optional: cin <= 4 };
}

export const conv2d: Kernel<ConvAttrs> = {
  op: "conv2d",
  outputShape([x], a) {
    const [n, h, w] = x;
    const oh = convOutputSize(h, a.kernel[0], a.stride[0], a.pad[0], a.dilation[0]);
    const ow = convOutputSize(w, a.kernel[1], a.stride[1], a.pad[1], a.dilation[1]);
    if (oh < 1 || ow < 1) throw new Error(`conv2d: input ${w}×${h} (width×height) is too small for a ${a.kernel.join("×")} kernel`);
    return [n, oh, ow, a.outChannels];
  },
  cpu([x], a, p, options = REFERENCE) {
    const cin = x.shape[3];
    const w = p.weight.data;
    const [kh, kw] = a.kernel;
    const at: WeightAccessor = (o, i, ky, kx) => w[((o * cin + i) * kh + ky) * kw + kx];
    return convGather(x, conv2d.outputShape([x.shape], a), p.weight, at, p.bias, a, "gather", options.conv);
  },
  gpu: {
    // Its pass, blocked or not, unrolls the kernel's columns (convRowPassSource): their count, stride and dilation are compiled in.
    variant: (a) => `${a.activation}/${a.kernel[1]}:${a.stride[1]}:${a.dilation[1]}`,
    source: (a, _, pixels) => convRowPassSource(a, pixels, false),
    blocking: (_a, [x], [, , ow]) => convBlocking(x, ow, 1),
    uniforms: (a) => convUniforms(a),
    pack(p, a, [x]) {
      const cin = x[3];
      const w = p.weight.data;
      const [kh, kw] = a.kernel;
      return packConvWeights((o, i, ky, kx) => w[((o * cin + i) * kh + ky) * kw + kx], a.outChannels, cin, a.kernel, p.bias);
    },
  },
};

/**
 * How an output coordinate o and kernel tap k map to an input coordinate:
 * "gather" (conv2d): o·stride − pad + k·dilation; "transposed" (conv_transpose2d,
 * computed as a gather): (o + pad − k·dilation) / stride, which only applies when
 * it divides. Returns −1 where the tap does not apply.
 */
export type ConvDirection = "gather" | "transposed";

function tapIndex(direction: ConvDirection, o: number, k: number, stride: number, pad: number, dilation: number, size: number): number {
  const t = o + pad - k * dilation;
  const i = direction === "gather" ? o * stride - pad + k * dilation : t % stride === 0 ? t / stride : -1;
  return i >= 0 && i < size ? i : -1;
}

/** Everything one convolution needs on the CPU, as plain arrays (shareable with worker threads). */
export interface ConvJob {
  readonly x: Tensor;
  readonly outShape: Shape;
  /** Weights blocked by blockWeights(). */
  readonly blocked: Float32Array;
  readonly bias: Float32Array | null;
  readonly attrs: ConvAttrs;
  readonly direction: ConvDirection;
  /** Which loops compute the rows ("simd" falls back to the reference where simdComputes() says no). */
  readonly conv: CpuConv;
  readonly out: Float32Array;
}

/** A conv job before its output exists: the runner allocates the output where its threads can write it. */
export type ConvTask = Omit<ConvJob, "out">;

/**
 * Computes all output rows of a conv task (rows are numbered b·outHeight + y)
 * and returns the output. The default runs them here; Node installs a pool of
 * worker threads (node/cpu-threads.ts) with setConvRowRunner.
 */
export type ConvRowRunner = (task: ConvTask) => Float32Array;

let rowRunner: ConvRowRunner = (task) => {
  const [n, oh, ow, cout] = task.outShape;
  const out = new Float32Array(n * oh * ow * cout);
  runConvRows({ ...task, out }, 0, n * oh);
  return out;
};

/** Computes output rows [rowStart, rowEnd) of a conv job into job.out, with the loops the job names. */
export function runConvRows(job: ConvJob, rowStart: number, rowEnd: number): void {
  if (job.conv === "simd" && simdComputes(job)) convRowsSimd(job, rowStart, rowEnd);
  else convRows(job, rowStart, rowEnd);
}

/** Installs how conv rows are run; returns the previous runner, to restore it. */
export function setConvRowRunner(runner: ConvRowRunner): ConvRowRunner {
  const previous = rowRunner;
  rowRunner = runner;
  return previous;
}

/**
 * The CPU reference all convolutions share: out(y, x) = Σ w(o, i, ky, kx)·in(iy, ix),
 * input coordinates from `direction`.
 */
export function convGather(
  x: Tensor,
  outShape: Shape,
  weightParam: Param,
  weight: WeightAccessor,
  bias: Param | undefined,
  a: ConvAttrs,
  direction: ConvDirection,
  conv: CpuConv,
): Tensor {
  const blocked = blockedWeights(weightParam, weight, outShape[3], x.shape[3], a.kernel);
  return tensor(outShape, rowRunner({ x, outShape, blocked, bias: bias?.data ?? null, attrs: a, direction, conv }));
}

// Bound weights do not change after loading, so each is blocked once, on its first run.
const blockedCache = new WeakMap<Param, Float32Array>();

function blockedWeights(param: Param, weight: WeightAccessor, cout: number, cin: number, kernel: readonly [number, number]): Float32Array {
  let blocked = blockedCache.get(param);
  if (!blocked || blocked.length !== blockedLength(cout, cin, kernel)) {
    blocked = blockWeights(weight, cout, cin, kernel);
    blockedCache.set(param, blocked);
  }
  return blocked;
}

const blockedLength = (cout: number, cin: number, [kh, kw]: readonly [number, number]) => Math.ceil(cout / 8) * kh * kw * cin * 8;

/**
 * Weights as [out block of 8][ky][kx][in][8], zero-padded to a whole block: the
 * inner loops read the outputs' weights for one input channel from consecutive
 * floats (the reference four of them, the SIMD kernel all eight as two vectors).
 */
export function blockWeights(weight: WeightAccessor, cout: number, cin: number, kernel: readonly [number, number]): Float32Array {
  const [kh, kw] = kernel;
  const taps = kh * kw;
  const blocked = new Float32Array(blockedLength(cout, cin, kernel));
  for (let o = 0; o < cout; o++)
    for (let i = 0; i < cin; i++)
      for (let ky = 0; ky < kh; ky++)
        for (let kx = 0; kx < kw; kx++) blocked[((((o >> 3) * taps + ky * kw + kx) * cin + i) << 3) + (o & 7)] = weight(o, i, ky, kx);
  return blocked;
}

/** The reference loops: output rows [rowStart, rowEnd) of a conv job into job.out, summing in float64. */
export function convRows(job: ConvJob, rowStart: number, rowEnd: number): void {
  const { x, outShape, blocked: wt, bias, attrs: a, direction, out } = job;
  const [, h, w, cin] = x.shape;
  const [, oh, ow, cout] = outShape;
  const [kh, kw] = a.kernel;
  const blocks = Math.ceil(cout / 4);
  const taps = kh * kw;
  const xs = x.data;
  const inputRows = new Int32Array(kh);
  const inputCols = new Int32Array(kw);
  for (let row = rowStart; row < rowEnd; row++) {
    const b = Math.floor(row / oh);
    const oy = row % oh;
    for (let ky = 0; ky < kh; ky++) inputRows[ky] = tapIndex(direction, oy, ky, a.stride[0], a.pad[0], a.dilation[0], h);
    for (let ox = 0; ox < ow; ox++) {
      for (let kx = 0; kx < kw; kx++) inputCols[kx] = tapIndex(direction, ox, kx, a.stride[1], a.pad[1], a.dilation[1], w);
      const oBase = ((b * oh + oy) * ow + ox) * cout;
      for (let ob = 0; ob < blocks; ob++) {
        const o = ob * 4;
        let s0 = bias ? bias[o] : 0;
        let s1 = bias && o + 1 < cout ? bias[o + 1] : 0;
        let s2 = bias && o + 2 < cout ? bias[o + 2] : 0;
        let s3 = bias && o + 3 < cout ? bias[o + 3] : 0;
        for (let ky = 0; ky < kh; ky++) {
          const iy = inputRows[ky];
          if (iy < 0) continue;
          for (let kx = 0; kx < kw; kx++) {
            const ix = inputCols[kx];
            if (ix < 0) continue;
            let xi = ((b * h + iy) * w + ix) * cin;
            let wi = (((o >> 3) * taps + ky * kw + kx) * cin << 3) + (o & 7);
            for (let i = 0; i < cin; i++, xi++, wi += 8) {
              const v = xs[xi];
              s0 += v * wt[wi];
              s1 += v * wt[wi + 1];
              s2 += v * wt[wi + 2];
              s3 += v * wt[wi + 3];
            }
          }
        }
        out[oBase + o] = activate(s0, a.activation);
        if (o + 1 < cout) out[oBase + o + 1] = activate(s1, a.activation);
        if (o + 2 < cout) out[oBase + o + 2] = activate(s2, a.activation);
        if (o + 3 < cout) out[oBase + o + 3] = activate(s3, a.activation);
      }
    }
  }
}

export function convUniforms(a: ConvAttrs): Record<string, readonly number[]> {
  return { u_kernel: a.kernel, u_stride: a.stride, u_pad: a.pad, u_dilation: a.dilation };
}

/** The uniforms and the activation every conv pass declares. */
function convPassHeader(act: Activation): string {
  return `
uniform sampler2D u_weights;
uniform sampler2D u_bias;
uniform ivec2 u_kernel, u_stride, u_pad, u_dilation;
${activationGlsl(act)}`;
}

/** acc += the 4×4 weight block (w0..w3) times input texel v: four multiply-adds of whole vec4s, no dot products (no horizontal sums). */
const multiplyAdd = (acc: string, v: string) => `${acc} += ${v}.x * w0 + ${v}.y * w1 + ${v}.z * w2 + ${v}.w * w3;`;

/** Reads the 4×4 weight block of one tap and input channel group, starting at weight texel `t`. */
const readWeights = (t: string) => [0, 1, 2, 3].map((r) => `vec4 w${r} = texelFetch(u_weights, ivec2(${t}${r ? ` + ${r}` : ""}, o.w), 0);`).join("\n        ");

/**
 * The one-pixel-per-fragment pass of dense and of conv_transpose2d where it is
 * not register-blocked (see convBlocking): for each kernel tap inside the input
 * and each input channel group, one input texel and one 4×4 weight block.
 */
export function convPassSource(act: Activation, transposed: boolean): string {
  // A transposed conv gathers: output y takes input (y + pad - ky·d) / stride when that divides.
  const inputCoord = (axis: "y" | "z", i: "x" | "y", k: string) =>
    transposed
      ? `int t${axis} = o.${axis} + u_pad.${i} - ${k} * u_dilation.${i};
      if (t${axis} < 0 || t${axis} % u_stride.${i} != 0) continue;
      int i${axis} = t${axis} / u_stride.${i};`
      : `int i${axis} = o.${axis} * u_stride.${i} - u_pad.${i} + ${k} * u_dilation.${i};`;
  // With stride s and no dilation only every s-th tap of a transposed conv lands
  // on an input pixel: start at the first one and step by s instead of testing all.
  const first = (axis: "y" | "z", i: "x" | "y") => (transposed ? `u_dilation.${i} == 1 ? (o.${axis} + u_pad.${i}) % u_stride.${i} : 0` : "0");
  const step = (i: "x" | "y") => (transposed ? `u_dilation.${i} == 1 ? u_stride.${i} : 1` : "1");
  return `${convPassHeader(act)}
vec4 run(ivec4 o) {
  vec4 acc = texelFetch(u_bias, ivec2(o.w, 0), 0);
  int groupsIn = (u_in0_shape.w + 3) / 4;
  int stepY = ${step("x")}, stepX = ${step("y")};
  // Channel group gi is tile n·groupsIn + gi of the input texture: walk the tiles
  // by adding a tile's size instead of dividing by the grid width at every read.
  ivec2 firstTile = origin0(o.x, 0);
  int rowEnd = u_in0_cols * u_in0_shape.z;
  for (int ky = ${first("y", "x")}; ky < u_kernel.x; ky += stepY) {
    ${inputCoord("y", "x", "ky")}
    if (iy < 0 || iy >= u_in0_shape.y) continue;
    for (int kx = ${first("z", "y")}; kx < u_kernel.y; kx += stepX) {
      ${inputCoord("z", "y", "kx")}
      if (iz < 0 || iz >= u_in0_shape.z) continue;
      int wx = (ky * u_kernel.y + kx) * groupsIn * 4;
      ivec2 tile = firstTile;
      for (int gi = 0; gi < groupsIn; gi++, wx += 4) {
        ${readWeights("wx")}
        vec4 v = texelFetch(u_in0, tile + ivec2(iz, iy), 0);
        ${multiplyAdd("acc", "v")}
        tile.x += u_in0_shape.z;
        if (tile.x == rowEnd) tile = ivec2(0, tile.y + u_in0_shape.y);
      }
    }
  }
  return activate(acc);
}`;
}

/**
 * The register-blocked pass of conv2d and conv_transpose2d: a fragment computes
 * `pixels` output pixels of one row (see convBlocking and Blocking in kernel.ts),
 * and their taps overlap in the input. conv2d runs it with one pixel too: its
 * taps unrolled, it beat convPassSource's loops on a 3-channel input (Purohit's
 * first patch conv 414 → 300 ms on SwiftShader). With a 3×3 conv, 8
 * neighbouring pixels read 10 distinct input columns in a kernel row, not 24;
 * with a 4×4 stride-2 transposed conv, 8 pixels of one phase read 9, not 16.
 * So for each kernel row and input channel group the pass reads each distinct
 * column once, then each tap's 4×4 weight block once, and feeds every pixel its
 * column. On SwiftShader
 * that made DBM about 1.4× faster than reading per tap and pixel (bench/README.md).
 *
 * Which column feeds which pixel at which tap is worked out here, so the
 * kernel's width and the stride (and for conv2d the dilation) along x are
 * compiled into the shader: they are part of the kernels' variants.
 * conv2d: pixel k at tap kx reads column first + kx·dilation + k·stride, where
 * first = x0·stride − pad for the block's first output column x0.
 * conv_transpose2d (dilation 1): the block's pixels are a stride apart and share
 * one phase, so only taps kx = phase + j·stride land on an input pixel, and pixel
 * k reads column first + (J − 1 − j) + k there, J = ⌈kernel / stride⌉ taps at most.
 */
export function convRowPassSource(a: ConvAttrs, pixels: number, transposed: boolean): string {
  const [, kw] = a.kernel;
  const [, sx] = a.stride;
  const [, dx] = a.dilation;
  const ks = Array.from({ length: pixels }, (_, k) => k);
  if (!transposed) {
    const offsets = [...new Set(Array.from({ length: kw }, (_, kx) => ks.map((k) => kx * dx + k * sx)).flat())].sort((p, q) => p - q);
    return blockedPassSource(a.activation, pixels, {
      columns: offsets,
      taps: Array.from({ length: kw }, (_, kx) => ({ kx: `${kx}`, mayMiss: false, column: (k: number) => offsets.indexOf(kx * dx + k * sx) })),
      firstColumn: `o.z * ${pixels} * u_stride.y - u_pad.y`,
      transposed,
    });
  }
  const tapsPerPhase = Math.ceil(kw / sx);
  return blockedPassSource(a.activation, pixels, {
    columns: Array.from({ length: pixels + tapsPerPhase - 1 }, (_, c) => c),
    // The phase's last tap falls past the kernel in some phases when the stride does not divide it.
    taps: Array.from({ length: tapsPerPhase }, (_, j) => ({ kx: `phase + ${j * sx}`, mayMiss: j === tapsPerPhase - 1 && kw % sx !== 0, column: (k: number) => tapsPerPhase - 1 - j + k })),
    // x0 + pad − phase is a non-negative multiple of the stride: the division is exact.
    firstColumn: `(x0 + u_pad.y - phase) / u_stride.y - ${tapsPerPhase - 1}`,
    transposed,
  });
}

interface BlockedReads {
  /** Offsets of the distinct input columns from `firstColumn`. */
  readonly columns: readonly number[];
  /** Each tap: its kernel column (GLSL), whether it may fall past the kernel, and the column (an index into `columns`) pixel k reads. */
  readonly taps: readonly { kx: string; mayMiss: boolean; column: (k: number) => number }[];
  /** GLSL: the input column of offset 0. */
  readonly firstColumn: string;
  readonly transposed: boolean;
}

function blockedPassSource(act: Activation, pixels: number, { columns, taps, firstColumn, transposed }: BlockedReads): string {
  const ks = Array.from({ length: pixels }, (_, k) => k);
  const cs = columns.map((_, c) => c);
  // A transposed conv's rows, like its columns: only every stride-th tap lands on an input row.
  const rows = transposed
    ? `for (int ky = (o.y + u_pad.x) % u_stride.x; ky < u_kernel.x; ky += u_stride.x) {
    int ty = o.y + u_pad.x - ky;
    if (ty < 0) break;
    int iy = ty / u_stride.x;`
    : `for (int ky = 0; ky < u_kernel.x; ky++) {
    int iy = o.y * u_stride.x - u_pad.x + ky * u_dilation.x;
    if (iy < 0) continue;`;
  return `${convPassHeader(act)}
${pixels > 1 ? "void run(ivec4 o, out vec4 r[PIXELS])" : "vec4 run(ivec4 o)"} {
  vec4 bias = texelFetch(u_bias, ivec2(o.w, 0), 0);
  vec4 ${ks.map((k) => `acc${k} = bias`).join(", ")};
  int groupsIn = (u_in0_shape.w + 3) / 4;
  int tapTexels = groupsIn * 4; // weight texels from one tap to the next
  // Channel group gi is tile n·groupsIn + gi of the input texture (see convPassSource).
  ivec2 firstTile = origin0(o.x, 0);
  int rowEnd = u_in0_cols * u_in0_shape.z;
  ${transposed ? `int x0 = (o.z / u_stride.y) * u_stride.y * ${pixels} + o.z % u_stride.y; // the block's first output column (Blocking in kernel.ts)
  int phase = (x0 + u_pad.y) % u_stride.y;
  ` : ""}int first = ${firstColumn};
  // The distinct input columns, clamped, weighed 0 where outside the input.
  ${cs.map((c) => `int iz${c} = first + ${columns[c]};
  float inside${c} = float(iz${c} >= 0 && iz${c} < u_in0_shape.z);
  iz${c} = clamp(iz${c}, 0, u_in0_shape.z - 1);`).join("\n  ")}
  ${rows}
    if (iy >= u_in0_shape.y) continue;
    int wx = ky * u_kernel.y * tapTexels;
    ivec2 tile = firstTile;
    for (int gi = 0; gi < groupsIn; gi++, wx += 4) {
      ${cs.map((c) => `vec4 v${c} = texelFetch(u_in0, tile + ivec2(iz${c}, iy), 0) * inside${c};`).join("\n      ")}
      ${taps.map((tap) => `${tap.mayMiss ? `if (${tap.kx} < u_kernel.y) ` : ""}{
        int t = wx + (${tap.kx}) * tapTexels;
        ${readWeights("t")}
        ${ks.map((k) => multiplyAdd(`acc${k}`, `v${tap.column(k)}`)).join("\n        ")}
      }`).join("\n      ")}
      tile.x += u_in0_shape.z;
      if (tile.x == rowEnd) tile = ivec2(0, tile.y + u_in0_shape.y);
    }
  }
  ${pixels > 1 ? ks.map((k) => `r[${k}] = activate(acc${k});`).join(" ") : "return activate(acc0);"}
}`;
}

export function packConvWeights(
  weight: WeightAccessor,
  cout: number,
  cin: number,
  kernel: readonly [number, number],
  bias: Param | undefined,
): Record<string, PackedTexture> {
  const [kh, kw] = kernel;
  const gin = channelGroups(cin);
  const gout = channelGroups(cout);
  const width = kh * kw * gin * 4;
  const data = new Float32Array(width * gout * 4);
  for (let o = 0; o < cout; o++)
    for (let i = 0; i < cin; i++)
      for (let ky = 0; ky < kh; ky++)
        for (let kx = 0; kx < kw; kx++) {
          const texel = ((ky * kw + kx) * gin + (i >> 2)) * 4 + (i & 3);
          data[((o >> 2) * width + texel) * 4 + (o & 3)] = weight(o, i, ky, kx);
        }
  const biasData = new Float32Array(gout * 4);
  if (bias) biasData.set(bias.data);
  return {
    u_weights: { width, height: gout, data },
    u_bias: { width: gout, height: 1, data: biasData },
  };
}
