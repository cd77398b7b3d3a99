/**
 * The blurmap command line: map, segment, magnify, rank, eval, bench.
 * `blurmap --help` and `blurmap <command> --help` say what each does.
 *
 * Exit codes: 0 all done; 1 some inputs failed (the rest were still written);
 * 2 bad usage, or the model or benchmark could not start.
 */
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { basename, extname, join, resolve } from "node:path";
import { parseArgs } from "node:util";
import type { MagnifyOptions } from "./apps/magnify.js";
import type { MrfSolver, SegmentOptions } from "./apps/segment.js";
import { countImage, prCurveSvg, score } from "./eval/metrics.js";
import { encodeMapPng, encodeRgbaPng } from "./image/decode.js";
import { blurDegree, type Job, type JobResult, type ModelKind } from "./model.js";
import { defaultWeightPaths, readImageFile } from "./node.js";
import { openRunner, type MapRunner, type RunnerBackend } from "./node/runners.js";

const MODEL_OPTIONS = `model options (map, segment, magnify, rank, eval):
  --model dbm|purohit      network (default dbm)
  --backend auto|cpu|webgl auto (default): WebGL through headless Chromium when it
                           has a hardware GPU, else the CPU path (faster than a
                           software renderer); cpu: in Node, on every core
  --cpu-conv simd|reference cpu: convolutions by the WebAssembly SIMD kernel
                           (default) or the plain-TypeScript reference loops
                           (slower; what every other path is checked against)
  --weights FILE           weights file(s) instead of the shipped fp16 ones (repeat for purohit)
  --patch-stride N         purohit: step between 30×30 patches (default 15)
  --working-size N         shrink images whose long side is over N px before the
                           network, map scaled back (default 640; 0 = native size)
  --tile-size N            run working images longer than N px as overlapping tiles,
                           with the same map (default 2048; less GPU memory when
                           lower; 0 = never tile)
  --fp16                   webgl: half-float textures (half the GPU memory; maps
                           within 1e-2 of fp32); the cpu path always computes in fp32
  --json                   one JSON object per line on stdout, for scripts
  -h, --help               help`;

const HELP: Record<string, string> = {
  map: `blurmap map <images...> [--out DIR]
  Writes DIR/<name>.png for each image (default DIR: ./blurmap-maps): the blur
  map, 8-bit greyscale, white = blurred, the image's size. Prints the blur degree.`,
  segment: `blurmap segment <images...> [--out DIR] [--solver meanfield|graphcut] [--smoothness λ] [--iterations N]
  Writes DIR/<name>.png for each image (default DIR: ./blurmap-masks): a binary
  mask, white = blurred, from the map refined by an MRF (unaries from the map,
  contrast-sensitive Potts terms from the photo). meanfield (default) runs on the
  backend; graphcut is the exact minimum cut, on the CPU. λ default 1 (0 = the
  map thresholded at 0.5); mean-field passes default 20.`,
  magnify: `blurmap magnify <images...> [--out DIR] [--strength S]
  Writes DIR/<name>.png for each image (default DIR: ./blurmap-magnified): the
  photo with more defocus where the map says it is already blurred, sharp
  regions untouched. S: σ of the added blur as a fraction of the long side
  (default 0.01).`,
  rank: `blurmap rank <images...>
  Orders photos from sharpest to blurriest by blur degree S = mean of the map
  (DBM §V-A) and prints S for each.`,
  eval: `blurmap eval --images DIR --masks DIR [--maps DIR] [--invert-masks] [--svg FILE] [--limit N]
  Scores maps against masks (white = blurred, same file names): ODS/OIS F at
  β²=0.3 and β=1, AP, MAE. --maps scores existing maps (8-bit PNG) instead of
  running a model; --invert-masks for masks that are white = sharp (DUT-DBD);
  --svg writes the precision-recall curve.`,
  bench: `blurmap bench [--model dbm,purohit] [--size 256,384] [--compare tfjs,pytorch|none] [--runs N] [--cpu-size N] [--fp16] [--block-pixels 1,2,4,8] [--tile-size N] [--json FILE]
  Benchmarks in headless Chromium: the fragment pipeline's peak multiply-add
  rate and bandwidth, every conv layer at its real shape (at the first size),
  end to end (first run and steady-state median), TensorFlow.js WebGL on the same graph and weights,
  and the CPU path against PyTorch (DBM at --cpu-size, default 384). Sizes
  default to 256..1024 on a hardware GPU, 256 on a software renderer; runs
  (steady-state, median) default to 3; --fp16 adds each model with half-float
  textures; --block-pixels adds DBM at the first size with register blocking
  capped at each count (a lever sweep). Sizes over --tile-size (default 2048)
  run as tiles, as \`map\` runs them. Prints a Markdown table; --json writes
  the results. See bench/README.md.`,
};

const USAGE = `blurmap: per-pixel blur maps (1 = blurred) from photos, and what they are good for.

usage: blurmap <command> [options]; blurmap <command> --help for one command
${Object.values(HELP).map((h) => `\n${h}`).join("\n")}

${MODEL_OPTIONS}
`;

class UsageError extends Error {}

const OPTIONS = {
  model: { type: "string" },
  backend: { type: "string", default: "auto" },
  out: { type: "string" },
  weights: { type: "string", multiple: true },
  "patch-stride": { type: "string" },
  "working-size": { type: "string" },
  "tile-size": { type: "string" },
  json: { type: "boolean", default: false },
  help: { type: "boolean", short: "h", default: false },
  images: { type: "string" },
  masks: { type: "string" },
  maps: { type: "string" },
  "invert-masks": { type: "boolean", default: false },
  svg: { type: "string" },
  limit: { type: "string" },
  solver: { type: "string" },
  smoothness: { type: "string" },
  iterations: { type: "string" },
  strength: { type: "string" },
  size: { type: "string" },
  compare: { type: "string" },
  runs: { type: "string" },
  "cpu-size": { type: "string" },
  "block-pixels": { type: "string" },
  fp16: { type: "boolean", default: false },
  "cpu-conv": { type: "string", default: "simd" },
  "json-file": { type: "string" },
} as const;

type Values = ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true }>>["values"];

async function main(argv: string[]): Promise<number> {
  // `bench --json FILE` takes a file; elsewhere --json is a switch.
  const args = argv[0] === "bench" ? argv.map((a) => (a === "--json" ? "--json-file" : a)) : argv;
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: OPTIONS });
  const [command, ...rest] = positionals;
  if (!command) {
    process.stdout.write(USAGE);
    return values.help ? 0 : 2;
  }
  if (!(command in HELP)) throw new UsageError(`unknown command "${command}" (commands: ${Object.keys(HELP).join(", ")})`);
  if (values.help) {
    process.stdout.write(`${HELP[command]}\n\n${command === "bench" ? "" : `${MODEL_OPTIONS}\n`}`);
    return 0;
  }
  if (command === "map") return imageCommand(rest, values, { task: "map" }, "blurmap-maps");
  if (command === "segment") return imageCommand(rest, values, { task: "segment", options: segmentOptions(values) }, "blurmap-masks");
  if (command === "magnify") return imageCommand(rest, values, { task: "magnify", options: magnifyOptions(values) }, "blurmap-magnified");
  if (command === "rank") return rankCommand(rest, values);
  if (command === "eval") return evalCommand(rest, values);
  return benchCommand(rest, values);
}

function positiveInt(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!(Number.isSafeInteger(n) && n > 0)) throw new UsageError(`${flag} must be a positive integer, got "${value}"`);
  return n;
}

function nonNegative(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!(value.trim() !== "" && Number.isFinite(n) && n >= 0)) throw new UsageError(`${flag} must be a number ≥ 0, got "${value}"`);
  return n;
}

function segmentOptions(values: Values): SegmentOptions {
  const solver = values.solver ?? "meanfield";
  if (solver !== "meanfield" && solver !== "graphcut") throw new UsageError(`--solver must be meanfield or graphcut, got "${solver}"`);
  return { solver: solver as MrfSolver, smoothness: nonNegative(values.smoothness, "--smoothness"), iterations: positiveInt(values.iterations, "--iterations") };
}

function magnifyOptions(values: Values): MagnifyOptions {
  const strength = nonNegative(values.strength, "--strength");
  if (strength !== undefined && !(strength > 0 && strength <= 0.2)) throw new UsageError(`--strength must be in (0, 0.2], got "${values.strength}"`);
  return { strength };
}

/** Opens the model the options name, warning loudly when only test fixtures are installed. */
async function openModel(values: Values): Promise<MapRunner> {
  const kind = (values.model ?? "dbm") as ModelKind;
  if (kind !== "dbm" && kind !== "purohit") throw new UsageError(`--model must be dbm or purohit, got "${values.model}"`);
  const backend = values.backend as RunnerBackend;
  if (backend !== "cpu" && backend !== "webgl" && backend !== "auto") throw new UsageError(`--backend must be auto, cpu or webgl, got "${backend}"`);
  const cpuConv = values["cpu-conv"];
  if (cpuConv !== "simd" && cpuConv !== "reference") throw new UsageError(`--cpu-conv must be simd or reference, got "${cpuConv}"`);
  const patchStride = positiveInt(values["patch-stride"], "--patch-stride");
  const workingSize = values["working-size"] === "0" ? 0 : positiveInt(values["working-size"], "--working-size");
  const tileSize = values["tile-size"] === "0" ? 0 : positiveInt(values["tile-size"], "--tile-size");
  let weightPaths = values.weights ?? [];
  if (weightPaths.length === 0) {
    const found = defaultWeightPaths(kind);
    weightPaths = found.paths;
    if (found.fixture)
      process.stderr.write(
        `\n*** WARNING: no trained ${kind} weights are installed in weights/. ***\n` +
          `*** Using RANDOM TEST-FIXTURE weights: ${weightPaths.map((p) => basename(p)).join(", ")}. ***\n` +
          `*** These maps exercise the engine but say NOTHING about blur. ***\n\n`,
      );
  }
  const runner = await openRunner(backend, weightPaths, { patchStride, workingSize, tileSize, precision: values.fp16 ? "fp16" : "fp32", cpuConv });
  if (runner.reason && !values.json) process.stderr.write(`blurmap: backend ${runner.backend}: ${runner.reason}\n`);
  return runner;
}

function errorFor(file: string, e: unknown): string {
  const raw = (e as Error).message.replace(/^blurmap: /, "");
  return raw.startsWith(file) ? raw : `${file}: ${raw}`;
}

/** A one-line progress bar on stderr, only when a person is watching and there is more than one image. */
function progress(done: number, total: number, label: string): void {
  if (!process.stderr.isTTY || total < 2) return;
  const width = 24;
  const filled = Math.round((done / total) * width);
  const columns = (process.stderr.columns || 80) - 1; // 0 when the terminal does not say
  const line = `[${"#".repeat(filled)}${".".repeat(width - filled)}] ${done}/${total} ${label}`;
  process.stderr.write(`\r${line.slice(0, columns).padEnd(columns)}${done === total ? "\n" : ""}`);
}

/** map, segment, magnify: one PNG per image into --out, never over an input or another output of this run. */
async function imageCommand(images: string[], values: Values, job: Job, defaultOut: string): Promise<number> {
  if (images.length === 0) throw new UsageError(`${job.task}: no images given`);
  const outDir = resolve(values.out ?? defaultOut);
  const inputs = new Set(images.map((i) => resolve(i)));
  const written = new Map<string, string>(); // output -> the input it was made from, this run
  const runner = await openModel(values);
  let failed = 0;
  try {
    mkdirSync(outDir, { recursive: true });
    for (const [i, file] of images.entries()) {
      progress(i, images.length, basename(file));
      const target = join(outDir, `${basename(file, extname(file))}.png`);
      try {
        if (inputs.has(target)) throw new Error(`output ${target} would overwrite an input image; choose another --out`);
        if (written.has(target)) throw new Error(`output ${target} was already written for ${written.get(target)} (same file name); use separate --out folders`);
        const image = readImageFile(file);
        const started = performance.now();
        const result = await runner.run(image, job);
        const ms = Math.round(performance.now() - started);
        writeAtomically(target, encodeResult(job, result));
        written.set(target, file);
        const report = { input: file, output: target, width: image.width, height: image.height, model: runner.kind, backend: runner.backend, ms, ...summary(result) };
        const extra = report.blurred_share === undefined ? "" : `, blurred ${(100 * report.blurred_share).toFixed(1)}%`;
        process.stdout.write(values.json ? `${JSON.stringify(report)}\n` : `${file} -> ${target} (${image.width}×${image.height}, ${ms} ms, blur degree ${report.blur_degree}${extra})\n`);
      } catch (e) {
        failed++;
        const message = errorFor(file, e);
        process.stderr.write(values.json ? `${JSON.stringify({ input: file, error: message })}\n` : `\rblurmap: ${message}\n`);
      }
    }
    progress(images.length, images.length, "done");
  } finally {
    await runner.close();
  }
  if (failed) process.stderr.write(`blurmap: ${failed} of ${images.length} image(s) failed\n`);
  return failed ? 1 : 0;
}

function encodeResult(job: Job, r: JobResult): Uint8Array {
  if (job.task === "segment") return encodeMapPng({ ...r.mask!, data: Float32Array.from(r.mask!.data) });
  if (job.task === "magnify") return encodeRgbaPng(r.image!);
  return encodeMapPng(r.map);
}

function summary(r: JobResult): { blur_degree: number; blurred_share?: number } {
  const blur_degree = Number(blurDegree(r.map).toFixed(4));
  if (!r.mask) return { blur_degree };
  return { blur_degree, blurred_share: Number((r.mask.data.reduce((n, v) => n + v, 0) / r.mask.data.length).toFixed(4)) };
}

async function rankCommand(images: string[], values: Values): Promise<number> {
  if (images.length === 0) throw new UsageError("rank: no images given");
  const runner = await openModel(values);
  const ranked: { image: string; blur_degree: number }[] = [];
  let failed = 0;
  try {
    for (const [i, file] of images.entries()) {
      progress(i, images.length, basename(file));
      try {
        ranked.push({ image: file, blur_degree: blurDegree((await runner.run(readImageFile(file))).map) });
      } catch (e) {
        failed++;
        process.stderr.write(`\rblurmap: ${errorFor(file, e)}\n`);
      }
    }
    progress(images.length, images.length, "done");
  } finally {
    await runner.close();
  }
  ranked.sort((a, b) => a.blur_degree - b.blur_degree);
  if (values.json) process.stdout.write(`${JSON.stringify({ model: runner.kind, sharpest_first: ranked })}\n`);
  else for (const [i, r] of ranked.entries()) process.stdout.write(`${String(i + 1).padStart(3)}  S=${r.blur_degree.toFixed(4)}  ${r.image}\n`);
  if (failed) process.stderr.write(`blurmap: ${failed} of ${images.length} image(s) failed\n`);
  return failed ? 1 : 0;
}

async function evalCommand(rest: string[], values: Values): Promise<number> {
  if (rest.length) throw new UsageError(`eval takes no positional arguments (got "${rest[0]}"); use --images and --masks`);
  if (!values.images || !values.masks) throw new UsageError("eval needs --images DIR and --masks DIR");
  const limit = positiveInt(values.limit, "--limit");
  const listing = (dir: string, what: string) => {
    try {
      return readdirSync(dir).filter((f) => /\.(png|jpe?g)$/i.test(f)).sort();
    } catch {
      throw new UsageError(`${what} folder ${dir} cannot be read`);
    }
  };
  const masks = new Map(listing(values.masks, "--masks").map((f) => [basename(f, extname(f)), join(values.masks!, f)]));
  const images = listing(values.images, "--images").slice(0, limit);
  if (images.length === 0) throw new UsageError(`no PNG or JPEG images in ${values.images}`);
  const missing = images.filter((f) => !masks.has(basename(f, extname(f))));
  if (missing.length) throw new UsageError(`no mask in ${values.masks} for ${missing.slice(0, 5).join(", ")}${missing.length > 5 ? ` and ${missing.length - 5} more` : ""}`);
  const runner = values.maps ? null : await openModel(values);
  const counts = [];
  const started = performance.now();
  try {
    for (const [i, file] of images.entries()) {
      progress(i, images.length, file);
      const stem = basename(file, extname(file));
      const maskImage = readImageFile(masks.get(stem)!);
      const mask = Array.from({ length: maskImage.width * maskImage.height }, (_, p) => (maskImage.data[p * 4] >= 128) !== values["invert-masks"]);
      let map: ArrayLike<number>;
      if (runner) {
        const image = readImageFile(join(values.images, file));
        if (image.width !== maskImage.width || image.height !== maskImage.height)
          throw new Error(`${file} is ${image.width}×${image.height} but its mask is ${maskImage.width}×${maskImage.height}`);
        map = (await runner.run(image)).map.data;
      } else {
        const mapImage = readImageFile(join(values.maps!, `${stem}.png`));
        if (mapImage.width !== maskImage.width || mapImage.height !== maskImage.height)
          throw new Error(`map ${stem}.png is ${mapImage.width}×${mapImage.height} but its mask is ${maskImage.width}×${maskImage.height}`);
        map = Array.from({ length: mapImage.width * mapImage.height }, (_, p) => mapImage.data[p * 4] / 255);
      }
      counts.push(countImage(map, mask));
    }
    progress(images.length, images.length, "done");
  } finally {
    await runner?.close();
  }
  const s = score(counts);
  const source = runner ? `${runner.kind} on ${runner.backend}` : `maps in ${values.maps}`;
  if (values.svg) writeAtomically(values.svg, new TextEncoder().encode(prCurveSvg(s, `${source}, ${s.images} images`)));
  const { curve: _curve, ...scores } = s;
  if (values.json) process.stdout.write(`${JSON.stringify({ source, ...scores, seconds: (performance.now() - started) / 1000 })}\n`);
  else
    process.stdout.write(
      `${source}, ${s.images} images\n` +
        `  ODS F(β²=0.3) ${s.odsF.toFixed(4)} (threshold ${s.odsThreshold.toFixed(3)})   OIS F(β²=0.3) ${s.oisF.toFixed(4)}\n` +
        `  ODS F(β=1)    ${s.odsF1.toFixed(4)}   OIS F(β=1)    ${s.oisF1.toFixed(4)}\n` +
        `  AP ${s.ap.toFixed(4)}   MAE ${s.mae.toFixed(4)}\n`,
    );
  return 0;
}

async function benchCommand(rest: string[], values: Values): Promise<number> {
  if (rest.length) throw new UsageError(`bench takes no positional arguments (got "${rest[0]}")`);
  const { parseBenchOptions, runBench } = await import("../bench/run.js");
  let options;
  try {
    options = parseBenchOptions({ model: values.model, size: values.size, compare: values.compare, runs: values.runs, cpuSize: values["cpu-size"], fp16: values.fp16, blockPixels: values["block-pixels"], tileSize: values["tile-size"], json: values["json-file"] });
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  await runBench(options);
  return 0;
}

/** Temp file + rename: a reader never sees a half-written file, and a failure leaves any old file intact. */
function writeAtomically(target: string, bytes: Uint8Array): void {
  const tmp = `${target}.tmp-${process.pid}`;
  try {
    writeFileSync(tmp, bytes);
    renameSync(tmp, target);
  } finally {
    if (existsSync(tmp)) rmSync(tmp);
  }
}

main(process.argv.slice(2)).then(
  (code) => (process.exitCode = code),
  (e) => {
    const usage = e instanceof UsageError || (e as { code?: string }).code?.startsWith("ERR_PARSE_ARGS");
    process.stderr.write(`blurmap: ${(e as Error).message.replace(/^blurmap: /, "")}\n${usage ? "run 'blurmap --help' for usage\n" : ""}`);
    if (process.env.BLURMAP_DEBUG) console.error(e);
    process.exitCode = 2;
  },
);
