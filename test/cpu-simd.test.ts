// The CPU path's WebAssembly SIMD convolution against the reference loops:
// shapes chosen to reach every branch of the kernel and of its JavaScript side
// (4-pixel blocks and the remainder, partial 8-channel blocks, strides,
// dilations, padding, batches, each activation; transposed convs with phases
// that get no kernel tap), any split of the rows, and the shipped models end
// to end.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { blockWeights, conv2d, convAttrs, runConvRows, type ConvAttrs, type ConvDirection, type ConvJob } from "../src/kernels/conv2d.js";
import { convTranspose2d } from "../src/kernels/conv-transpose2d.js";
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
  readonly direction?: ConvDirection;
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
  // transposed: the U-Net's decoder (4×4, stride 2, pad 1), batch of 2
  { input: [2, 5, 7, 12], attrs: convAttrs(6, 4, { stride: [2, 2], pad: [1, 1], activation: "relu" }), direction: "transposed" },
  // transposed: stride 3 over a 3×3 kernel with padding, sigmoid
  { input: [1, 6, 5, 9], attrs: convAttrs(17, 3, { stride: [3, 3], pad: [1, 1], activation: "sigmoid" }), direction: "transposed" },
  // transposed: a 1×1 kernel at stride 2 leaves three of four phases with no tap (bias only)
  { input: [1, 4, 4, 8], attrs: convAttrs(8, 1, { stride: [2, 2], activation: "leaky_relu" }), direction: "transposed" },
  // transposed: different stride and padding per axis
  { input: [1, 6, 9, 5], attrs: convAttrs(4, 4, { stride: [1, 2], pad: [2, 0] }), direction: "transposed" },
];

const kernelOf = (c: Case) => (c.direction === "transposed" ? convTranspose2d : conv2d);

function convCase(c: Case, seed: number): { x: Tensor; params: { weight: Param; bias: Param } } {
  const [, , , cin] = c.input;
  const [kh, kw] = c.attrs.kernel;
  const count = c.input.reduce((p, d) => p * d, 1);
  const x = tensor(c.input, randomNormal(count, seed));
  // conv2d weights are [out, in, kh, kw], conv_transpose2d's [in, out, kh, kw]: the same count either way.
  const weight = { shape: c.direction === "transposed" ? [cin, c.attrs.outChannels, kh, kw] : [c.attrs.outChannels, cin, kh, kw], data: randomNormal(c.attrs.outChannels * cin * kh * kw, seed + 1).map((v) => v / Math.sqrt(cin * kh * kw)) };
  const bias = { shape: [c.attrs.outChannels], data: randomNormal(c.attrs.outChannels, seed + 2) };
  return { x, params: { weight, bias } };
}

const label = (c: Case) =>
  `${c.direction === "transposed" ? "transposed " : ""}${c.input.join("×")} → ${c.attrs.outChannels}, ${c.attrs.kernel.join("×")} stride ${c.attrs.stride.join(",")} pad ${c.attrs.pad.join(",")} dilation ${c.attrs.dilation.join(",")} ${c.attrs.activation}`;

test("simd: this Node has WebAssembly SIMD, so the CPU path uses it by default", async () => {
  assert.ok(simdAvailable());
  const model = await loadModel(readFileSync(join(ROOT, "weights", "dbm.safetensors")), { backend: "cpu" });
  assert.is(model.device, "cpu (simd)");
});

CASES.forEach((c, i) =>
  test(`simd == reference (fp32 tolerance): ${label(c)}`, () => {
    const { x, params } = convCase(c, 100 + 10 * i);
    const reference = kernelOf(c).cpu([x], c.attrs, params, { conv: "reference" });
    const simd = kernelOf(c).cpu([x], c.attrs, params, { conv: "simd" });
    assert.equal([...simd.shape], [...reference.shape]);
    const r = compare(simd.data, reference.data, FP32_TOLERANCE);
    assert.ok(r.ok, describe(r));
    console.log(`    simd vs reference ${label(c)}: ${describe(r)}`);
  }),
);

for (const c of [CASES[2], CASES[7]])
  test(`simd: any split of the output rows, across images of a batch, gives bit-identical rows (${label(c)})`, () => {
    const { x, params } = convCase(c, 7);
    const direction = c.direction ?? "gather";
    const outShape = kernelOf(c).outputShape([x.shape], c.attrs);
    const [n, oh, ow, cout] = outShape;
    const [kh, kw] = c.attrs.kernel;
    const cin = x.shape[3];
    const w = params.weight.data;
    const blocked = blockWeights(
      direction === "gather" ? (o, i, ky, kx) => w[((o * cin + i) * kh + ky) * kw + kx] : (o, i, ky, kx) => w[((i * cout + o) * kh + ky) * kw + kx],
      cout, cin, c.attrs.kernel,
    );
    const job = (): ConvJob => ({ x, outShape, blocked, bias: params.bias.data, attrs: c.attrs, direction, conv: "simd", out: new Float32Array(n * oh * ow * cout) });
    const whole = job();
    const rows = n * oh;
    runConvRows(whole, 0, rows);
    const reference = kernelOf(c).cpu([x], c.attrs, params, { conv: "reference" });
    assert.ok(compare(whole.out, reference.data, FP32_TOLERANCE).ok, "one call differs from the reference");
    for (const cuts of [[1], [oh - 1, oh + 2], [2, 3, 5, rows - 1]]) {
      const pieces = job();
      [0, ...cuts, rows].forEach((start, k, bounds) => k + 1 < bounds.length && runConvRows(pieces, start, bounds[k + 1]));
      assert.ok(pieces.out.every((v, i) => Object.is(v, whole.out[i])), `rows cut at ${cuts.join(", ")} differ from one call`);
    }
  });

const SHIPPED = [
  { name: "DBM", files: ["dbm.safetensors"], workingSize: 96 },
  { name: "Purohit (patch net and U-Net, transposed convs included)", files: ["purohit-patch.safetensors", "purohit-unet.safetensors"], workingSize: 64 },
];

for (const m of SHIPPED)
  test(`simd: the shipped ${m.name} on the sample photo matches the reference path (fp32 tolerance, every element of the map)`, async () => {
    const files = m.files.map((f) => readFileSync(join(ROOT, "weights", f)));
    const image = decodeImage(readFileSync(join(ROOT, "samples", "sample.png")), "sample.png");
    const simd = await loadModel(files, { backend: "cpu", cpuConv: "simd", workingSize: m.workingSize });
    const reference = await loadModel(files, { backend: "cpu", cpuConv: "reference", workingSize: m.workingSize });
    const r = compare(simd.run(image).map.data, reference.run(image).map.data, FP32_TOLERANCE);
    assert.ok(r.ok, describe(r));
    console.log(`    shipped ${m.name}, sample at working size ${m.workingSize}, simd vs reference map: ${describe(r)}`);
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
