// The CPU path's WebAssembly SIMD convolution against the reference loops:
// shapes chosen to reach every branch of the kernel and of its JavaScript side
// (4-pixel blocks and the remainder, partial 8-channel blocks, strides,
// dilations, padding, batches, each activation), any split of the rows, and
// the shipped DBM end to end.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { blockWeights, conv2d, convAttrs, runConvRows, type ConvAttrs, type ConvJob } from "../src/kernels/conv2d.js";
import { simdAvailable } from "../src/kernels/conv2d-simd.js";
import { tensor, type Param, type Tensor } from "../src/kernels/kernel.js";
import type { Shape } from "../src/kernels/layout.js";
import { compare, describe, FP32_TOLERANCE } from "../src/parity.js";
import { decodeImage } from "../src/image/decode.js";
import { loadModel } from "../src/index.js";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { ROOT } from "./helpers.js";
import { randomNormal } from "./random.js";

interface Case {
  readonly input: Shape;
  readonly attrs: ConvAttrs;
}

const CASES: Case[] = [
  // width below one 4-pixel block; one input channel; 1 output channel
  { input: [1, 5, 3, 1], attrs: convAttrs(1, 3, { pad: [1, 1], activation: "relu" }) },
  // 9 = two blocks + one; 9 outputs = one full 8-channel block + a partial one
  { input: [1, 7, 9, 3], attrs: convAttrs(9, 3, { pad: [1, 1], activation: "leaky_relu" }) },
  // stride 2, 4×4 kernel (the U-Net's encoder), batch of 3
  { input: [3, 12, 14, 13], attrs: convAttrs(16, 4, { stride: [2, 2], pad: [1, 1], activation: "leaky_relu" }) },
  // different stride, padding and dilation per axis; sigmoid is applied outside the kernel
  { input: [2, 11, 17, 6], attrs: convAttrs(7, 3, { stride: [1, 3], pad: [2, 0], dilation: [2, 1], activation: "sigmoid" }) },
  // 1×1, 512 → 1: DBM's score layer
  { input: [1, 6, 10, 512], attrs: convAttrs(1, 1, {}) },
  // padding wider than the kernel reaches, no activation
  { input: [1, 4, 4, 8], attrs: convAttrs(8, 3, { pad: [3, 3] }) },
  // a VGG-like layer: 64 → 64, 3×3, pad 1, ReLU
  { input: [1, 19, 21, 64], attrs: convAttrs(64, 3, { pad: [1, 1], activation: "relu" }) },
];

function convCase(c: Case, seed: number): { x: Tensor; params: { weight: Param; bias: Param } } {
  const [, , , cin] = c.input;
  const [kh, kw] = c.attrs.kernel;
  const count = c.input.reduce((p, d) => p * d, 1);
  const x = tensor(c.input, randomNormal(count, seed));
  const weight = { shape: [c.attrs.outChannels, cin, kh, kw], data: randomNormal(c.attrs.outChannels * cin * kh * kw, seed + 1).map((v) => v / Math.sqrt(cin * kh * kw)) };
  const bias = { shape: [c.attrs.outChannels], data: randomNormal(c.attrs.outChannels, seed + 2) };
  return { x, params: { weight, bias } };
}

const label = (c: Case) =>
  `${c.input.join("×")} → ${c.attrs.outChannels}, ${c.attrs.kernel.join("×")} stride ${c.attrs.stride.join(",")} pad ${c.attrs.pad.join(",")} dilation ${c.attrs.dilation.join(",")} ${c.attrs.activation}`;

test("simd: this Node has WebAssembly SIMD, so the CPU path uses it by default", async () => {
  assert.ok(simdAvailable());
  const model = await loadModel(readFileSync(join(ROOT, "weights", "dbm.safetensors")), { backend: "cpu" });
  assert.is(model.device, "cpu (simd)");
});

CASES.forEach((c, i) =>
  test(`simd == reference (fp32 tolerance): ${label(c)}`, () => {
    const { x, params } = convCase(c, 100 + 10 * i);
    const reference = conv2d.cpu([x], c.attrs, params, { conv: "reference" });
    const simd = conv2d.cpu([x], c.attrs, params, { conv: "simd" });
    assert.equal([...simd.shape], [...reference.shape]);
    const r = compare(simd.data, reference.data, FP32_TOLERANCE);
    assert.ok(r.ok, describe(r));
    console.log(`    simd vs reference ${label(c)}: ${describe(r)}`);
  }),
);

test("simd: any split of the output rows, across images of a batch, gives bit-identical rows", () => {
  const c = CASES[2];
  const { x, params } = convCase(c, 7);
  const outShape = conv2d.outputShape([x.shape], c.attrs);
  const [n, oh, ow, cout] = outShape;
  const [kh, kw] = c.attrs.kernel;
  const cin = x.shape[3];
  const w = params.weight.data;
  const blocked = blockWeights((o, i, ky, kx) => w[((o * cin + i) * kh + ky) * kw + kx], cout, cin, c.attrs.kernel);
  const job = (): ConvJob => ({ x, outShape, blocked, bias: params.bias.data, attrs: c.attrs, direction: "gather", conv: "simd", out: new Float32Array(n * oh * ow * cout) });
  const whole = job();
  runConvRows(whole, 0, n * oh);
  const rows = n * oh;
  for (const cuts of [[1], [oh - 1, oh + 2], [2, 3, 5, rows - 1]]) {
    const pieces = job();
    [0, ...cuts, rows].forEach((start, k, bounds) => k + 1 < bounds.length && runConvRows(pieces, start, bounds[k + 1]));
    assert.ok(pieces.out.every((v, i) => Object.is(v, whole.out[i])), `rows cut at ${cuts.join(", ")} differ from one call`);
  }
});

test("simd: the shipped DBM on the sample photo matches the reference path (fp32 tolerance, every element of the map)", async () => {
  const bytes = readFileSync(join(ROOT, "weights", "dbm.safetensors"));
  const image = decodeImage(readFileSync(join(ROOT, "samples", "sample.png")), "sample.png");
  const simd = await loadModel(bytes, { backend: "cpu", cpuConv: "simd", workingSize: 96 });
  const reference = await loadModel(bytes, { backend: "cpu", cpuConv: "reference", workingSize: 96 });
  const r = compare(simd.run(image).map.data, reference.run(image).map.data, FP32_TOLERANCE);
  assert.ok(r.ok, describe(r));
  console.log(`    shipped DBM, sample at working size 96, simd vs reference map: ${describe(r)}`);
});

test("simd: a bad cpuConv is refused by name", async () => {
  const bytes = readFileSync(join(ROOT, "weights", "dbm.safetensors"));
  try {
    await loadModel(bytes, { backend: "cpu", cpuConv: "avx" as never });
    assert.unreachable("accepted cpuConv avx");
  } catch (e) {
    assert.match((e as Error).message, 'cpuConv must be "simd" or "reference", got "avx"');
  }
});

test.run();
