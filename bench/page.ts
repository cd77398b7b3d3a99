// Runs in the browser (bundled to dist/bench/bench-page.js): the fragment
// pipeline's peak, per-layer and end-to-end timings of blurmap's WebGL
// executor, and TensorFlow.js's WebGL backend on the same DBM graph and
// weights. bench/run.ts drives it in headless Chromium and adds the CPU rows;
// dist/bench/index.html runs it on its own in any browser, on whatever GPU
// that browser has, and shows the table (see bench/README.md).
import type { BoundParams } from "../src/graph/cpu-executor.js";
import { BlurMapModel } from "../src/model.js";
import { chooseTileSide, fitsTextures, headOf, planSpans, runTiled, trunkOf } from "../src/graph/tiling.js";
import type { Graph, Node } from "../src/graph/ir.js";
import { WebGLExecutor } from "../src/graph/webgl-executor.js";
import { textureLayout } from "../src/kernels/layout.js";
import { createGpuContext, createFloatTexture, createFramebuffer, ProgramCache, readFramebuffer, type Precision } from "../src/webgl/context.js";
import { readWeightsFile } from "../src/weights/load.js";
import { assembleReport, type BenchRow, browserOptions, type BrowserBenchOptions, type BrowserBenchResult, markdown, parseBenchOptions, row, SIZES } from "./report.js";
import { benchInput, median, nodeFlops } from "./workload.js";

/** Progress lines: bench/run.ts forwards them to stderr, the standalone page shows them. */
let log = (line: string) => console.log(`bench: ${line}`);


/** The shipped model's graph and bound weights at size×size, built as BlurMapModel builds them, and the model (for its tiles' graphs). */
async function modelGraph(kind: "dbm" | "purohit", size: number): Promise<{ graph: Graph; params: BoundParams; model: BlurMapModel }> {
  const names = kind === "dbm" ? ["dbm.safetensors"] : ["purohit-patch.safetensors", "purohit-unet.safetensors"];
  const files = await Promise.all(
    names.map(async (n) => {
      const response = await fetch(`weights/${n}`);
      if (!response.ok) throw new Error(`weights/${n}: HTTP ${response.status} (the page needs the shipped weights beside it)`);
      return readWeightsFile(new Uint8Array(await response.arrayBuffer()), n);
    }),
  );
  const model = new BlurMapModel(files, { backend: "cpu", patchStride: 15 });
  return { ...model.graph(size, size), model };
}

/**
 * Peak multiply-add rate: every fragment of a 1024×1024 pass runs `u_iterations`
 * steps over 8 independent vec4 chains (so the compiler cannot fold or serialise
 * them), each step 4 dependent multiply-adds per chain in one statement, and
 * writes their sum. One multiply-add per statement measured 27% less on
 * SwiftShader (10.3 against 14.2 GFLOP/s), which pays for every assignment in a
 * loop: a conv pass, with several multiply-adds per statement, then ran above
 * that "peak". Bandwidth: every fragment sums 64 texels of a 2048×2048 RGBA32F
 * texture (64 MiB) at scattered addresses. Each is the fastest of 5 draws.
 */
function peak() {
  const ctx = createGpuContext();
  const programs = new ProgramCache(ctx);
  const { gl } = ctx;
  const side = 1024;
  const target = createFloatTexture(ctx, side, side);
  const fb = createFramebuffer(ctx, target);
  const draw = (key: string, source: string, uniforms: (p: WebGLProgram) => void) => {
    const info = programs.get(key, () => source);
    gl.bindFramebuffer(gl.FRAMEBUFFER, fb);
    gl.viewport(0, 0, side, side);
    gl.useProgram(info.program);
    uniforms(info.program);
    const started = performance.now();
    gl.drawArrays(gl.TRIANGLES, 0, 3);
    readFramebuffer(ctx, fb, 1, 1);
    return performance.now() - started;
  };
  const chains = [0, 1, 2, 3, 4, 5, 6, 7];
  const madsPerStep = 4;
  const step = (k: number) => Array.from({ length: madsPerStep }).reduce<string>((e) => `(${e} * m + c)`, `a${k}`);
  const madSource = `#version 300 es
precision highp float;
uniform int u_iterations;
out vec4 colour;
void main() {
  vec4 a0 = gl_FragCoord.xyxy * 1e-4, ${chains.slice(1).map((k) => `a${k} = a0 + 0.${k}`).join(", ")};
  vec4 m = vec4(0.9999, 0.9998, 0.9997, 0.9996), c = vec4(1e-5);
  for (int i = 0; i < u_iterations; i++) {
    ${chains.map((k) => `a${k} = ${step(k)};`).join("\n    ")}
  }
  colour = ${chains.map((k) => `a${k}`).join(" + ")};
}`;
  const iterations = /swiftshader/i.test(ctx.renderer) ? 64 : 4096;
  const setIterations = (p: WebGLProgram) => gl.uniform1i(gl.getUniformLocation(p, "u_iterations"), iterations);
  draw("peak-mad", madSource, setIterations); // compile and warm up
  // A peak is the best the pipeline does: the fastest of 5 (on a busy machine the median runs below what layers reach).
  const madMs = Math.min(...[0, 1, 2, 3, 4].map(() => draw("peak-mad", madSource, setIterations)));
  const flops = side * side * iterations * chains.length * madsPerStep * 4 * 2;

  const texSide = 2048;
  const source = createFloatTexture(ctx, texSide, texSide, new Float32Array(texSide * texSide * 4).fill(1));
  const readSource = `#version 300 es
precision highp float;
uniform highp sampler2D u_src;
out vec4 colour;
void main() {
  ivec2 p = ivec2(gl_FragCoord.xy);
  vec4 sum = vec4(0.0);
  for (int i = 0; i < 64; i++) sum += texelFetch(u_src, ivec2((p.x * 2 + (i & 1)) & 2047, (p.y * 2 + i / 2 * 64) & 2047), 0);
  colour = sum;
}`;
  const bindSource = (p: WebGLProgram) => {
    gl.activeTexture(gl.TEXTURE0);
    gl.bindTexture(gl.TEXTURE_2D, source);
    gl.uniform1i(gl.getUniformLocation(p, "u_src"), 0);
  };
  draw("peak-read", readSource, bindSource);
  const readMs = Math.min(...[0, 1, 2, 3, 4].map(() => draw("peak-read", readSource, bindSource)));
  const bytes = side * side * 64 * 16;
  programs.dispose();
  gl.deleteFramebuffer(fb);
  gl.deleteTexture(target);
  gl.deleteTexture(source);
  return {
    renderer: ctx.renderer,
    software: ctx.software,
    timerQuery: gl.getExtension("EXT_disjoint_timer_query_webgl2") !== null,
    gflops: flops / madMs / 1e6,
    gbps: bytes / readMs / 1e6,
  };
}

function logPeak(p: ReturnType<typeof peak>): void {
  log(`${p.renderer}: peak ${p.gflops.toFixed(1)} GFLOP/s multiply-add, ${p.gbps.toFixed(1)} GB/s texture reads`);
}

/**
 * The GL limits that bound how large an image can run, and the largest square
 * float texture this GPU will both allocate and render into (doubling from 1024², up to 16384²).
 */
function limits() {
  const ctx = createGpuContext();
  const { gl } = ctx;
  let largest = 0;
  for (let side = 1024; side <= Math.min(ctx.maxTextureSize, 16384); side *= 2) {
    try {
      const texture = createFloatTexture(ctx, side, side, null, "a probe");
      try {
        gl.deleteFramebuffer(createFramebuffer(ctx, texture));
        largest = side;
      } finally {
        gl.deleteTexture(texture);
      }
    } catch {
      break;
    }
  }
  return {
    maxTextureSize: ctx.maxTextureSize,
    maxRenderbufferSize: gl.getParameter(gl.MAX_RENDERBUFFER_SIZE) as number,
    maxDrawBuffers: ctx.maxDrawBuffers,
    largestRgba32fTarget: largest,
    parallelShaderCompile: gl.getExtension("KHR_parallel_shader_compile") !== null,
  };
}

/**
 * One model at one size through blurmap's executor: the first run on a fresh
 * context (shader compile + weight upload + run), then `runs` more (median),
 * and the texture bytes held; with `layers`, one more profiled run timing each
 * pass; `blockPixels` caps register blocking (the lever sweep). A size over
 * `tileSize`, or too big for the GPU's textures, runs as tiles, as the model
 * runs it (no per-layer profile then).
 */
async function blurmapEndToEnd(kind: "dbm" | "purohit", size: number, runs: number, layers: boolean, precision: Precision = "fp32", blockPixels?: number, tileSize = 0) {
  const { graph, params, model } = await modelGraph(kind, size);
  const input = benchInput(size);
  const ctx = createGpuContext();
  // Blocking never uses more pixels than there are draw buffers: capping those caps it.
  const executor = new WebGLExecutor(blockPixels === undefined ? ctx : { ...ctx, maxDrawBuffers: Math.min(blockPixels, ctx.maxDrawBuffers) }, precision);
  const graphAt = (h: number, w: number) => model.graph(h, w).graph;
  const tileSide = chooseTileSide(size, size, tileSize, model.tiling, (h, w) => fitsTextures(graphAt(h, w), ctx.maxTextureSize));
  const runOnce = () =>
    tileSide === 0
      ? executor.run(graph, params, [input]).get(graph.output)!
      : runTiled(graph, graphAt, model.tiling, input, tileSide, (g, inputs) => executor.run(g, params, inputs).get(g.output)!);
  if (tileSide) log(`  as tiles of ${tileSide} px`);
  let started = performance.now();
  const first = runOnce();
  const msFirst = performance.now() - started;
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    started = performance.now();
    runOnce();
    times.push(performance.now() - started);
  }
  const perLayer: { name: string; op: string; ms: number; flops: number; shape: string }[] = [];
  if (layers && tileSide === 0)
    executor.run(graph, params, [input], [], (node: Node, ms: number) => {
      const flops = nodeFlops(node, graph);
      if (flops > 0) perLayer.push({ name: node.name, op: node.op, ms, flops, shape: graph.shapes.get(node.name)!.join("×") });
    });
  const counts = executor.counts();
  executor.dispose();
  const flops = graph.nodes.reduce((sum, n) => sum + nodeFlops(n, graph), 0);
  // Tiled, the largest activations are a tile's (all tiles are one size; the image is square), or the head's at full size.
  const bytesPerTexel = precision === "fp16" ? 8 : 16;
  const { cut } = model.tiling;
  const tile = tileSide === 0 ? null : planSpans(size, graph.shapes.get(cut)![1], tileSide, model.tiling)[0];
  const largestPairBytes = !tile
    ? largestLivePair(graph, bytesPerTexel)
    : Math.max(largestLivePair(trunkOf(graphAt(tile.end - tile.start, tile.end - tile.start), cut), bytesPerTexel), largestLivePair(headOf(graph, cut), bytesPerTexel));
  return {
    msFirst,
    msMedian: median(times),
    flops,
    tileSide,
    peakBytes: counts.activationBytes + counts.weightBytes,
    weightBytes: counts.weightBytes,
    largestPairBytes,
    output: Array.from(first.data.subarray(0, 4096)),
    outputMean: first.data.reduce((a, b) => a + b, 0) / first.data.length,
    perLayer,
  };
}

/** The memory goal's yardstick: bytes of the two largest activations alive at once (a node's biggest input and its output). */
function largestLivePair(graph: Graph, bytesPerTexel: number): number {
  const bytes = (t: string) => {
    const l = textureLayout(graph.shapes.get(t)!);
    return l.width * l.height * bytesPerTexel;
  };
  return graph.nodes.reduce((m, n) => Math.max(m, bytes(n.name) + Math.max(...n.inputs.map(bytes))), 0);
}

/**
 * The same DBM in TensorFlow.js (window.tf, its WebGL backend): tf.layers for
 * the VGG16 convs and pools and the 1×1 score, then bilinear resize with half-pixel
 * centres (PyTorch's align_corners=False) and sigmoid, with blurmap's bound
 * weights (BatchNorm already folded) in HWIO.
 */
async function tfjsEndToEnd(size: number, runs: number) {
  const tf = (window as any).tf;
  await tf.setBackend("webgl");
  await tf.ready();
  const { graph, params } = await modelGraph("dbm", size);
  const model = tf.sequential();
  let first = true;
  const weights: unknown[] = [];
  for (const node of graph.nodes) {
    if (node.op === "maxpool2d") model.add(tf.layers.maxPooling2d({ poolSize: 2, strides: 2 }));
    if (node.op !== "conv2d") continue;
    const { weight, bias } = params.get(node.name)!;
    const [cout, cin, kh, kw] = weight.shape;
    const hwio = new Float32Array(weight.data.length);
    for (let o = 0; o < cout; o++) for (let i = 0; i < cin; i++) for (let y = 0; y < kh; y++) for (let x = 0; x < kw; x++) hwio[((y * kw + x) * cin + i) * cout + o] = weight.data[((o * cin + i) * kh + y) * kw + x];
    const relu = (node.attrs as { activation: string }).activation === "relu";
    model.add(tf.layers.conv2d({ filters: cout, kernelSize: [kh, kw], padding: "same", activation: relu ? "relu" : "linear", ...(first ? { inputShape: [size, size, 3] } : {}) }));
    first = false;
    weights.push(tf.tensor4d(hwio, [kh, kw, cin, cout]), tf.tensor1d(bias.data));
  }
  model.setWeights(weights);
  const input = benchInput(size);
  const run = () =>
    tf.tidy(() => {
      const x = tf.tensor4d(input.data, [1, size, size, 3]);
      const score = model.predict(x);
      return tf.sigmoid(tf.image.resizeBilinear(score, [size, size], false, true));
    });
  let started = performance.now();
  let out = run();
  const data: Float32Array = out.dataSync();
  out.dispose();
  const msFirst = performance.now() - started;
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    started = performance.now();
    out = run();
    out.dataSync();
    out.dispose();
    times.push(performance.now() - started);
  }
  const memory = tf.memory();
  model.dispose();
  weights.forEach((w: any) => w.dispose());
  return { msFirst, msMedian: median(times), output: Array.from(data.subarray(0, 4096)), outputMean: data.reduce((a, b) => a + b, 0) / data.length, numBytes: memory.numBytesInGPU ?? memory.numBytes };
}

/**
 * The browser's whole share of a benchmark run: the peak, then each model at
 * each size (fp32, fp16 if asked, and TF.js on DBM if asked), with per-layer
 * timings at the first size. Sizes default to 256..1024 on a hardware GPU and
 * 256 alone on a software renderer.
 */
async function browserBench(o: BrowserBenchOptions): Promise<BrowserBenchResult> {
  const p = peak();
  logPeak(p);
  const sizes = o.sizes ?? (p.software ? [256] : SIZES);
  const results: BenchRow[] = [];
  const layerRows: BenchRow[] = [];
  const memoryRatio: Record<string, number> = {};
  const maxDiff = (a: number[], b: number[]) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);
  for (const model of o.models)
    for (const size of sizes) {
      log(`blurmap webgl ${model} ${size}²...`);
      const r = await blurmapEndToEnd(model, size, o.runs, size === sizes[0], "fp32", undefined, o.tileSize);
      results.push(tiled(row("blurmap", "webgl", model, size, r.msFirst, r.msMedian, r.flops, p.gflops, r.peakBytes), r.tileSide));
      memoryRatio[`${model}/${size}`] = r.peakBytes / (r.weightBytes + r.largestPairBytes);
      for (const l of r.perLayer) layerRows.push(row("blurmap", "webgl", `${model}.${l.name}`, size, null, l.ms, l.flops, p.gflops, null));
      if (o.fp16) {
        log(`blurmap webgl ${model} ${size}² fp16...`);
        const h = await blurmapEndToEnd(model, size, o.runs, false, "fp16", undefined, o.tileSize);
        results.push(tiled({ ...row("blurmap", "webgl", `${model}-fp16`, size, h.msFirst, h.msMedian, h.flops, p.gflops, h.peakBytes), max_abs_diff: maxDiff(h.output, r.output) }, h.tileSide));
        memoryRatio[`${model}-fp16/${size}`] = h.peakBytes / (h.weightBytes + h.largestPairBytes);
      }
      if (model === "dbm" && o.tfjs) {
        log(`tfjs webgl dbm ${size}²...`);
        const t = await tfjsEndToEnd(size, o.runs);
        results.push({ ...row("tfjs", "webgl", "dbm", size, t.msFirst, t.msMedian, r.flops, p.gflops, t.numBytes), max_abs_diff: maxDiff(t.output, r.output) });
      }
    }
  for (const pixels of o.blockPixels) {
    log(`blurmap webgl dbm ${sizes[0]}², blocking capped at ${pixels} pixels...`);
    const r = await blurmapEndToEnd("dbm", sizes[0], o.runs, false, "fp32", pixels);
    results.push(row("blurmap", "webgl", `dbm-block${pixels}`, sizes[0], r.msFirst, r.msMedian, r.flops, p.gflops, r.peakBytes));
  }
  return { device: p.renderer, peak: { gflops: p.gflops, gbps: p.gbps, timer_query: p.timerQuery }, results, layerRows, memoryRatio };
}

/** The row, marked with its tile side when it ran as tiles. */
function tiled(r: BenchRow, tileSide: number): BenchRow {
  return tileSide ? { ...r, tile_size: tileSide } : r;
}

(window as any).bench = { peak, blurmapEndToEnd, tfjsEndToEnd, browserBench };

/**
 * Standalone mode (dist/bench/index.html?run): options come from the query
 * string as the CLI's flags (model, size, runs, fp16, block-pixels, tile-size; tfjs=0 for
 * --compare none), the table is shown on the page, and with `post` the progress
 * lines, the Markdown table and the JSON report are also POSTed under that
 * path, for a script that serves the folder and waits
 * (tools/bench-in-browser.py). `probe` stops after the peak.
 */
async function standalone(query: URLSearchParams): Promise<void> {
  const post = query.get("post");
  const send = (path: string, body: string) => (post ? fetch(`${post}/${path}`, { method: "POST", body }).then(() => undefined) : Promise.resolve());
  const show = (text: string) => (document.getElementById("log")!.textContent += `${text}\n`);
  const quiet = log;
  log = (line) => {
    quiet(line);
    show(line);
    void send("log", line);
  };
  try {
    if (query.has("probe")) {
      // Which renderer and how fast, nothing more: lets a script choose among browser flags.
      const p = peak();
      logPeak(p);
      const l = limits();
      log(`limits: ${JSON.stringify(l)}`);
      await send("report", JSON.stringify({ device: p.renderer, peak: p, limits: l }));
      return;
    }
    // The CLI's checks, so that a bad value is named rather than run.
    const given = (key: string) => query.get(key) ?? undefined;
    const options = browserOptions(
      parseBenchOptions({ model: given("model"), size: given("size"), runs: given("runs"), fp16: query.get("fp16") === "1", blockPixels: given("block-pixels"), tileSize: given("tile-size"), compare: query.get("tfjs") === "0" ? "none" : "tfjs" }),
    );
    if (options.tfjs) await loadScript("tf.min.js");
    const report = assembleReport(await browserBench(options), []);
    const table = markdown(report);
    document.getElementById("table")!.textContent = table;
    await send("table", table);
    await send("report", JSON.stringify(report, null, 2));
  } catch (e) {
    log(`failed: ${(e as Error).stack ?? e}`);
    await send("report", JSON.stringify({ error: String(e) }));
  }
}

function loadScript(src: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const s = document.createElement("script");
    s.src = src;
    s.onload = () => resolve();
    s.onerror = () => reject(new Error(`could not load ${src} (the bench folder has it only where @tensorflow/tfjs was installed at build time; tfjs=0 leaves TF.js out)`));
    document.head.append(s);
  });
}

const query = new URLSearchParams(location.search);
if (document.getElementById("bench-standalone") && query.has("run")) void standalone(query);
