// Runs inside headless Chromium (bundled to dist/test-page.js): the WebGL
// executor against the CPU reference, on the same inputs, in the same page.
// Fixtures are fetched from /fixtures/<name>; results go back as plain objects.
import { planMagnify } from "../../src/apps/magnify.js";
import { rgbTensor } from "../../src/apps/segment.js";
import { runCpu, type BoundParams } from "../../src/graph/cpu-executor.js";
import { buildMrf } from "../../src/graph/mrf.js";
import { contrastBeta } from "../../src/kernels/mrf-edges.js";
import { buildDbm, type DbmArchitecture } from "../../src/graph/dbm.js";
import type { Graph } from "../../src/graph/ir.js";
import { buildPatchNet, buildPurohit, buildUNet, type PatchNetArchitecture, type UNetArchitecture } from "../../src/graph/purohit.js";
import { WebGLExecutor } from "../../src/graph/webgl-executor.js";
import { kernelFor, type OpName } from "../../src/kernels/index.js";
import type { Params, Tensor } from "../../src/kernels/kernel.js";
import type { Shape } from "../../src/kernels/layout.js";
import { compare, FP16_FLOOR, FP16_LAYER_BOUND, FP16_MAP_BOUND, FP32_TOLERANCE, type Tolerance } from "../../src/parity.js";
import { loadModel } from "../../src/index.js";
import { createGpuContext, ProgramCache, type Precision } from "../../src/webgl/context.js";
import { bindWeights, type WeightsFile } from "../../src/weights/bind.js";
import { readWeightsFile } from "../../src/weights/load.js";
import { parseSafetensors, type SafetensorsFile } from "../../src/weights/safetensors.js";
import { randomNormal } from "../random.js";

export interface ParityResult {
  label: string;
  ok: boolean;
  maxAbsError: number;
  failures: number;
  count: number;
  detail: string;
}

// Live GL objects, counted by wrapping create/delete on the prototype before any context exists.
const live: Record<string, number> = { Texture: 0, Framebuffer: 0, Program: 0, Shader: 0, Buffer: 0 };
/** Textures created so far: a steady run reuses its pool, so this should stop growing after the first. */
let texturesCreated = 0;
for (const kind of Object.keys(live)) {
  const proto = WebGL2RenderingContext.prototype as any;
  const create = proto[`create${kind}`];
  const remove = proto[`delete${kind}`];
  proto[`create${kind}`] = function (...args: unknown[]) {
    const obj = create.apply(this, args);
    if (obj) live[kind]++;
    if (obj && kind === "Texture") texturesCreated++;
    return obj;
  };
  proto[`delete${kind}`] = function (obj: unknown) {
    if (obj && !(this as WebGL2RenderingContext).isContextLost()) live[kind]--;
    return remove.call(this, obj);
  };
}
const snapshot = () => ({ ...live });

const ctx = createGpuContext();
const executor = new WebGLExecutor(ctx);

async function fetchBytes(name: string): Promise<Uint8Array> {
  const r = await fetch(name.startsWith("/") ? name : `/fixtures/${name}`);
  if (!r.ok) throw new Error(`fixture ${name}: HTTP ${r.status}`);
  return new Uint8Array(await r.arrayBuffer());
}

function result(label: string, actual: Tensor, expected: Tensor, tolerance: Tolerance = FP32_TOLERANCE): ParityResult {
  const shapeOk = actual.shape.every((d, i) => d === expected.shape[i]);
  const c = compare(actual.data, expected.data, tolerance);
  const f = c.firstFailure;
  const detail = !shapeOk
    ? `shape [${actual.shape}] vs [${expected.shape}]`
    : f ? `${c.failures} values out of tolerance, first [${f.index}]: gpu ${f.actual}, cpu ${f.expected}` : "";
  return { label, ok: shapeOk && c.ok, maxAbsError: c.maxAbsError, failures: c.failures, count: c.count, detail };
}

function fixtureTensor(file: SafetensorsFile, name: string): Tensor {
  const t = file.tensors.get(name)!;
  return { shape: t.shape as unknown as Shape, data: t.data };
}

/**
 * Every op case of ops.safetensors as a one-node graph, WebGL vs CPU reference;
 * then the ops PyTorch has no twin of, on seeded random inputs: interleave_columns
 * (the register-blocked conv's second pass), convs 1..3 pixels wide (one pixel
 * per fragment, then blocks of two and three), blocked convs with dilation,
 * strides and non-square kernels (their pixels share input columns in other
 * patterns), and transposed convs whose blocks of pixels a stride apart end part-way.
 */
async function ops(): Promise<ParityResult[]> {
  const ops = parseSafetensors(await fetchBytes("ops.safetensors"), "ops.safetensors");
  const cases: { name: string; op: OpName; attrs: unknown; inputs: number; params: string[] }[] = JSON.parse(ops.metadata.cases);
  const fromFixture = cases.map((c) => {
    const inputs = Array.from({ length: c.inputs }, (_, i) => fixtureTensor(ops, `${c.name}.input${i}`));
    const params: Params = Object.fromEntries(c.params.map((p) => [p, ops.tensors.get(`${c.name}.${p}`)!]));
    return opCase(c.name, c.op, c.attrs, inputs, params);
  });
  const random = (shape: Shape, seed: number): Tensor => ({ shape, data: randomNormal(shape[0] * shape[1] * shape[2] * shape[3], seed) });
  const convParams = (cout: number, cin: number, k: number | [number, number], seed: number): Params => {
    const [kh, kw] = typeof k === "number" ? [k, k] : k;
    return {
      weight: { shape: [cout, cin, kh, kw], data: randomNormal(cout * cin * kh * kw, seed) },
      bias: { shape: [cout], data: randomNormal(cout, seed + 1) },
    };
  };
  return [
    ...fromFixture,
    opCase("interleave_columns 2 inputs → width 7", "interleave_columns", { width: 7, step: 1 }, [random([2, 3, 4, 5], 1), random([2, 3, 4, 5], 2)], {}),
    opCase("interleave_columns 3 inputs → width 8", "interleave_columns", { width: 8, step: 1 }, [1, 2, 3].map((k) => random([1, 2, 3, 6], 10 + k)), {}),
    opCase("interleave_columns 4 inputs, step 3 → width 13", "interleave_columns", { width: 13, step: 3 }, [1, 2, 3, 4].map((k) => random([1, 2, 6, 5], 40 + k)), {}),
    ...[1, 2, 3].map((w) => opCase(`conv3x3 width ${w}`, "conv2d", { ...CONV3X3, outChannels: 6 }, [random([1, 4, w, 5], 20 + w)], convParams(6, 5, 3, 30 + w))),
    // Blocked convs whose pixels' taps overlap in other patterns than 3×3 stride 1.
    ...[
      { name: "3×3 dilation 2, 6 → 5 channels, width 19", input: [1, 7, 19, 6], k: [3, 3], stride: [1, 1], pad: [2, 2], dilation: [2, 2], cout: 5 },
      { name: "4×4 stride 2, 7 → 6 channels, width 23 → 11", input: [1, 6, 23, 7], k: [4, 4], stride: [2, 2], pad: [1, 1], dilation: [1, 1], cout: 6 },
      { name: "5×3 stride 1×3, dilation 1×2, pad 2×3, width 20 → 6", input: [2, 9, 20, 5], k: [5, 3], stride: [1, 3], pad: [2, 3], dilation: [1, 2], cout: 9 },
    ].map((c, i) =>
      opCase(`conv2d ${c.name}`, "conv2d", { ...CONV3X3, kernel: c.k, stride: c.stride, pad: c.pad, dilation: c.dilation, outChannels: c.cout, activation: "none" },
        [random(c.input as unknown as Shape, 80 + i)], convParams(c.cout, c.input[3], c.k as [number, number], 90 + i)),
    ),
    ...[
      { name: "stride 3, pad 1, 5 → 7 channels, width 4 → 10", input: [1, 3, 4, 5], k: 3, stride: 3, pad: 1, cout: 7 },
      { name: "stride 2, pad 1, 4×4, 9 → 6 channels, width 11 → 22", input: [2, 5, 11, 9], k: 4, stride: 2, pad: 1, cout: 6 },
      { name: "stride 2, dilation 2 (one pixel per fragment)", input: [1, 4, 6, 8], k: 3, stride: 2, pad: 1, cout: 4, dilation: 2 },
    ].map((c, i) => {
      const attrs = { ...CONV3X3, kernel: [c.k, c.k], stride: [c.stride, c.stride], pad: [c.pad, c.pad], dilation: [c.dilation ?? 1, c.dilation ?? 1], outChannels: c.cout, activation: "none" };
      const params = convParams(c.input[3], c.cout, c.k, 50 + i); // conv_transpose2d weights are [in, out, kh, kw]
      return opCase(`conv_transpose2d ${c.name}`, "conv_transpose2d", attrs, [random(c.input as unknown as Shape, 60 + i)], { ...params, bias: { shape: [c.cout], data: randomNormal(c.cout, 70 + i) } });
    }),
  ];
}

const CONV3X3 = { kernel: [3, 3], stride: [1, 1], pad: [1, 1], dilation: [1, 1], activation: "relu" };

function opCase(name: string, op: OpName, attrs: unknown, inputs: Tensor[], params: Params): ParityResult {
  const kernel = kernelFor(op);
  const shapes = new Map<string, Shape>(inputs.map((t, i) => [`in${i}`, t.shape]));
  shapes.set("out", kernel.outputShape(inputs.map((t) => t.shape), attrs));
  const names = inputs.map((_, i) => `in${i}`);
  const graph: Graph = { inputs: names, output: "out", shapes, nodes: [{ name: "out", op, inputs: names, attrs }] };
  const gpu = executor.run(graph, new Map([["out", params]]), inputs).get("out")!;
  return result(`op ${name}`, gpu, kernel.cpu(inputs, attrs, params));
}

type NetName = "dbm" | "patch" | "unet" | "purohit" | "dbm-shipped" | "purohit-shipped";

/** A network's graph, bound weights and a seeded random input. */
async function networkCase(name: NetName, height: number, width: number, seed: number): Promise<{ graph: Graph; params: BoundParams; input: Tensor }> {
  const load = async (f: string) => readWeightsFile(await fetchBytes(f), f);
  let graph: Graph;
  let files: WeightsFile[];
  if (name === "dbm") {
    files = [await load("dbm-tiny.safetensors")];
    graph = buildDbm(height, width, { width: 0.125 });
  } else if (name === "patch") {
    files = [await load("purohit-patch.safetensors")];
    graph = buildPatchNet(height, { filters: [32, 64, 128] }); // height = patch count
  } else if (name === "unet") {
    files = [await load("purohit-unet.safetensors")];
    graph = buildUNet({ filters: 64, depth: 5, size: height });
  } else if (name === "purohit") {
    files = [await load("purohit-patch.safetensors"), await load("purohit-unet.safetensors")];
    graph = buildPurohit(height, width, { filters: [32, 64, 128] }, { filters: 64, depth: 5, size: 32 }, { patchStride: 15 });
  } else if (name === "dbm-shipped") {
    files = [await load("/weights/dbm.safetensors")];
    graph = buildDbm(height, width, files[0].info.architecture as DbmArchitecture);
  } else {
    files = [await load("/weights/purohit-patch.safetensors"), await load("/weights/purohit-unet.safetensors")];
    graph = buildPurohit(height, width, files[0].info.architecture as PatchNetArchitecture, files[1].info.architecture as UNetArchitecture, { patchStride: 15 });
  }
  const params: BoundParams = bindWeights(graph, new Map(files.map((f) => [f.info.model, f])));
  const inShape = graph.shapes.get(graph.inputs[0])!;
  const input: Tensor = { shape: inShape, data: randomNormal(inShape[0] * inShape[1] * inShape[2] * inShape[3], seed) };
  return { graph, params, input };
}

/**
 * A network on a seeded random input: WebGL vs CPU reference at every layer and
 * at the output. `drawBuffers` stands in for a GPU with that many (register
 * blocking then takes at most that many pixels per fragment).
 */
async function network(name: NetName, height: number, width: number, seed: number, precision: Precision = "fp32", drawBuffers?: number): Promise<ParityResult[]> {
  const { graph, params, input } = await networkCase(name, height, width, seed);
  const all = graph.nodes.map((n) => n.name);
  const cpu = runCpu(graph, params, [input], all);
  if (precision === "fp32") {
    const own = drawBuffers === undefined ? null : new WebGLExecutor({ ...ctx, maxDrawBuffers: drawBuffers });
    const gpu = (own ?? executor).run(graph, params, [input], all);
    own?.dispose();
    return all.map((t) => result(`${name}${drawBuffers === undefined ? "" : ` (${drawBuffers} draw buffers)`} ${t}`, gpu.get(t)!, cpu.get(t)!));
  }
  const half = new WebGLExecutor(ctx, "fp16");
  const gpu = half.run(graph, params, [input], all);
  half.dispose();
  return all.map((t) => {
    const expected = cpu.get(t)!;
    const range = expected.data.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
    const bound = t === graph.output ? FP16_MAP_BOUND : Math.max(FP16_LAYER_BOUND * range, FP16_FLOOR);
    return result(`${name} fp16 ${t} (bound ${bound.toExponential(1)})`, gpu.get(t)!, expected, { abs: bound, rel: 0 });
  });
}

/**
 * The shipped DBM as the executor runs it on a hardware GPU, where weights that
 * half floats hold exactly are stored as half floats: every layer against the
 * CPU reference, and the weight bytes that way and the software renderer's way.
 */
async function halfWeights(height: number, width: number, seed: number) {
  const { graph, params, input } = await networkCase("dbm-shipped", height, width, seed);
  const all = graph.nodes.map((n) => n.name);
  const cpu = runCpu(graph, params, [input], all);
  const hardware = new WebGLExecutor({ ...ctx, software: false });
  const gpu = hardware.run(graph, params, [input], all);
  const software = new WebGLExecutor({ ...ctx, software: true });
  software.run(graph, params, [input]);
  const bytes = { hardware: hardware.counts().weightBytes, software: software.counts().weightBytes };
  hardware.dispose();
  software.dispose();
  return { results: all.map((t) => result(`half-float weights ${t}`, gpu.get(t)!, cpu.get(t)!)), bytes };
}

function seededImage(width: number, height: number, seed: number) {
  const noise = randomNormal(width * height * 4, seed);
  return { width, height, data: Uint8ClampedArray.from(noise, (v) => 128 + 60 * v) };
}

/** A WebGL model on the fixture weights (DBM at width 1/8), or with `shipped` on the shipped weights. */
async function webglModel(kind: "dbm" | "purohit", { shipped = false, canvas }: { shipped?: boolean; canvas?: HTMLCanvasElement } = {}) {
  const names = kind === "dbm" ? [shipped ? "dbm.safetensors" : "dbm-tiny.safetensors"] : ["purohit-patch.safetensors", "purohit-unet.safetensors"];
  return loadModel(await Promise.all(names.map((n) => fetchBytes(shipped ? `/weights/${n}` : n))), { backend: "webgl", canvas });
}

/**
 * `runs` runs of one model: live GL objects after the first and the last run,
 * and after dispose(), and the textures created after the first run (a texture
 * made and freed on every run leaks nothing but costs an allocation each time).
 */
async function leaks(kind: "dbm" | "purohit", runs: number, shipped = false, width = 41, height = 37) {
  const before = snapshot();
  const model = await webglModel(kind, { shipped });
  const image = seededImage(width, height, 3);
  model.run(image);
  const afterFirst = snapshot();
  const createdBefore = texturesCreated;
  for (let i = 1; i < runs; i++) model.run(image);
  const afterAll = snapshot();
  const texturesCreatedLater = texturesCreated - createdBefore;
  model.dispose();
  return { before, afterFirst, afterAll, afterDispose: snapshot(), texturesCreatedLater };
}

const bits = (a: Float32Array) => new Uint32Array(a.buffer, a.byteOffset, a.length);

/** The same input twice: are the two maps bit-identical? */
async function determinism(kind: "dbm" | "purohit") {
  const model = await webglModel(kind);
  const image = seededImage(45, 33, 4);
  const a = model.run(image).map.data.slice();
  const b = model.run(image).map.data.slice();
  model.dispose();
  return { identical: bits(a).every((v, i) => v === bits(b)[i]), length: a.length };
}

/** Loses the context between runs with WEBGL_lose_context, restores it, runs again. */
async function contextLoss() {
  const canvas = document.createElement("canvas");
  const model = await webglModel("dbm", { canvas });
  const gl = canvas.getContext("webgl2")!;
  const image = seededImage(40, 32, 5);
  const first = model.run(image).map.data.slice();
  const lose = gl.getExtension("WEBGL_lose_context")!;
  const lost = new Promise((resolve) => canvas.addEventListener("webglcontextlost", resolve, { once: true }));
  const restored = new Promise((resolve) => canvas.addEventListener("webglcontextrestored", resolve, { once: true }));
  lose.loseContext();
  let lostError = "";
  try {
    model.run(image);
  } catch (e) {
    lostError = (e as Error).message;
  }
  await lost;
  // Restore from a later task: Chrome allows it only once the lost event's dispatch
  // (where blurmap prevents its default) has finished, not from a microtask inside it.
  await new Promise((resolve) => setTimeout(resolve, 0));
  lose.restoreContext();
  await restored;
  const after = model.run(image).map.data;
  const c = compare(after, first, FP32_TOLERANCE);
  model.dispose();
  return { lostError, afterRestoreOk: c.ok, maxAbsError: c.maxAbsError };
}

/** Browsers without WebGL2, or without float render targets: the errors a caller sees. */
async function missingFeatures() {
  const noWebGL = document.createElement("canvas");
  noWebGL.getContext = (() => null) as never;
  const noFloat = document.createElement("canvas");
  const real = noFloat.getContext.bind(noFloat);
  noFloat.getContext = ((type: string, opts: unknown) => {
    const gl = real(type as "webgl2", opts as never) as WebGL2RenderingContext;
    const getExtension = gl.getExtension.bind(gl);
    gl.getExtension = ((name: string) => (name === "EXT_color_buffer_float" ? null : getExtension(name))) as never;
    return gl;
  }) as never;
  const attempt = async (canvas: HTMLCanvasElement) => {
    try {
      await webglModel("dbm", { canvas });
      return "";
    } catch (e) {
      return (e as Error).message;
    }
  };
  const cpu = await loadModel(await fetchBytes("dbm-tiny.safetensors"), { backend: "cpu" });
  return { noWebGL2: await attempt(noWebGL), noFloat: await attempt(noFloat), cpuStillRuns: cpu.run(seededImage(32, 32, 6)).map.data.length === 1024 };
}

/** A shader the driver rejects: the error must carry the driver's own log. */
function shaderFailure() {
  const programs = new ProgramCache(ctx);
  try {
    programs.get("broken", () => "#version 300 es\nprecision highp float;\nout vec4 colour;\nvoid main() { colour = no_such_variable; }\n");
    return "";
  } catch (e) {
    return (e as Error).message;
  } finally {
    programs.dispose();
  }
}

/** An image whose input texture alone is over MAX_TEXTURE_SIZE, at native size: a clear error, then normal runs. */
async function overTextureLimit() {
  const model = await loadModel(await fetchBytes("dbm-tiny.safetensors"), { backend: "webgl", workingSize: 0 });
  let error = "";
  try {
    model.run(seededImage(ctx.maxTextureSize + 8, 16, 7));
  } catch (e) {
    error = (e as Error).message;
  }
  const after = model.run(seededImage(32, 32, 8)).map.data.length;
  model.dispose();
  return { error, maxTextureSize: ctx.maxTextureSize, afterOk: after === 1024 };
}

/** A photo-like test card: two colour regions split by a wavy edge, with texture on the left. */
function testCard(width: number, height: number, seed: number) {
  const noise = randomNormal(width * height, seed);
  const data = new Uint8ClampedArray(width * height * 4);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) {
      const p = y * width + x;
      const right = x > width * 0.55 + 3 * Math.sin(y / 4);
      const base = right ? [60, 110, 200] : [190, 150, 90];
      for (let c = 0; c < 3; c++) data[p * 4 + c] = base[c] + (right ? 4 : 25) * noise[p];
      data[p * 4 + 3] = 255;
    }
  return { width, height, data };
}

/** The MRF graph on a test card and a soft ramp map: WebGL vs CPU at every pass. */
function mrfLayers(height: number, width: number, seed: number): ParityResult[] {
  const card = testCard(width, height, seed);
  const map = { shape: [1, height, width, 1] as Shape, data: Float32Array.from({ length: height * width }, (_, p) => 1 / (1 + Math.exp(-((p % width) - width / 2) / 4))) };
  const rgb = rgbTensor(card);
  const graph = buildMrf(height, width, { lambda: 1, beta: contrastBeta(rgb), iterations: 20, damping: 0.5 });
  const all = graph.nodes.map((n) => n.name);
  const gpu = executor.run(graph, new Map(), [map, rgb], all);
  const cpu = runCpu(graph, new Map(), [map, rgb], all);
  return all.map((t) => result(`mrf ${t}`, gpu.get(t)!, cpu.get(t)!));
}

/** Magnification's graph on a test card: WebGL vs CPU at every pass. */
function magnifyLayers(height: number, width: number, seed: number): ParityResult[] {
  const card = testCard(width, height, seed);
  const map = { shape: [1, height, width, 1] as Shape, data: Float32Array.from({ length: height * width }, (_, p) => (p % width) / width) };
  const { graph, params, inputs } = planMagnify(card, map, { strength: 0.05 });
  const all = graph.nodes.map((n) => n.name);
  const gpu = executor.run(graph, params, inputs, all);
  executor.release(params);
  const cpu = runCpu(graph, params, inputs, all);
  return all.map((t) => result(`magnify ${t}`, gpu.get(t)!, cpu.get(t)!));
}

/**
 * A model run as tiles against the same model in one pass, on WebGL, and the
 * tiled WebGL map against the tiled CPU map: are the tiled maps the one-pass ones?
 */
async function tiling(kind: "dbm" | "purohit", width: number, height: number, tileSize: number, seed: number) {
  const names = kind === "dbm" ? ["dbm-tiny.safetensors"] : ["purohit-patch.safetensors", "purohit-unet.safetensors"];
  const weights = await Promise.all(names.map((n) => fetchBytes(n)));
  const image = seededImage(width, height, seed);
  const map = async (backend: "webgl" | "cpu", tiles: number) => {
    const model = await loadModel(weights, { backend, workingSize: 0, tileSize: tiles, patchStride: 10 });
    const data = model.run(image).map.data;
    model.dispose();
    return data;
  };
  const tiled = await map("webgl", tileSize);
  const whole = await map("webgl", 0);
  const cpuTiled = await map("cpu", tileSize);
  return {
    tiledVsWhole: compare(tiled, whole, FP32_TOLERANCE).maxAbsError,
    identical: bits(tiled).every((v, i) => v === bits(whole)[i]),
    tiledVsCpu: compare(tiled, cpuTiled, FP32_TOLERANCE),
  };
}

const agreement = (a: Uint8Array, b: Uint8Array) => a.reduce((n, v, i) => n + (v === b[i] ? 1 : 0), 0) / a.length;

/**
 * Segmentation and magnification through the public API on a real photo
 * (RGBA served at /samples/photo.rgba) with the shipped DBM: the GPU's
 * mean-field masks against the CPU's mean-field and exact graph-cut masks,
 * and the magnified images against the CPU's.
 */
async function applications(width: number, height: number, workingSize: number) {
  const photo = { width, height, data: new Uint8ClampedArray(await (await fetch("/samples/photo.rgba")).arrayBuffer()) };
  const weights = await fetchBytes("/weights/dbm.safetensors");
  const gpuModel = await loadModel(weights, { backend: "webgl", workingSize });
  const cpuModel = await loadModel(weights, { backend: "cpu", workingSize });
  const gpu = gpuModel.segment(photo);
  const cpu = cpuModel.segment(photo);
  const exact = cpuModel.segment(photo, { solver: "graphcut" });
  const halfModel = await loadModel(weights, { backend: "webgl", workingSize, precision: "fp16" });
  const fp16MapMaxAbsError = compare(halfModel.run(photo).map.data, cpu.map.data, FP32_TOLERANCE).maxAbsError;
  halfModel.dispose();
  const gpuMagnified = gpuModel.magnify(photo).image;
  const cpuMagnified = cpuModel.magnify(photo).image;
  let maxByteDiff = 0;
  for (let i = 0; i < gpuMagnified.data.length; i++) maxByteDiff = Math.max(maxByteDiff, Math.abs(gpuMagnified.data[i] - cpuMagnified.data[i]));
  const counts = gpuModel.glObjectCounts();
  gpuModel.dispose();
  return {
    gpuVsCpuMeanField: agreement(gpu.mask.data, cpu.mask.data),
    gpuMeanFieldVsGraphCut: agreement(gpu.mask.data, exact.mask.data),
    blurredShare: gpu.mask.data.reduce((n, v) => n + v, 0) / gpu.mask.data.length,
    mapMaxAbsError: compare(gpu.map.data, cpu.map.data, FP32_TOLERANCE).maxAbsError,
    fp16MapMaxAbsError,
    magnifyMaxByteDiff: maxByteDiff,
    gpuMrfMs: gpu.mrfMs,
    cpuGraphCutMs: exact.mrfMs,
    counts,
  };
}

(window as any).parity = { ops, network, halfWeights, mrfLayers, magnifyLayers, applications, tiling, renderer: ctx.renderer, counts: () => executor.counts() };
(window as any).reliability = { leaks, determinism, contextLoss, missingFeatures, shaderFailure, overTextureLimit };
