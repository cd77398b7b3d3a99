/**
 * The blurmap command line.
 *
 *   blurmap map <images...> [--model dbm|purohit] [--backend cpu|webgl] [--out DIR]
 *   blurmap eval --images DIR --masks DIR [--maps DIR] [--svg FILE]
 *
 * Exit codes: 0 all done; 1 some inputs failed (the rest were still written);
 * 2 bad usage or the model could not be loaded.
 */
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { basename, extname, join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { countImage, prCurveSvg, score } from "./eval/metrics.js";
import { encodeMapPng } from "./image/decode.js";
import { blurDegree, type ModelKind } from "./model.js";
import { defaultWeightPaths, readImageFile } from "./node.js";
import { openRunner, type MapRunner } from "./node/runners.js";

const USAGE = `blurmap: per-pixel blur maps (1 = blurred) from photos.

usage:
  blurmap map <images...> [options]   write <out>/<name>.png for each image:
                                      8-bit greyscale, white = blurred, same size
  blurmap rank <images...> [options]  order photos from sharpest to blurriest by
                                      blur degree S = mean of the map (DBM §V-A)
  blurmap eval --images DIR --masks DIR [options]
                                      score maps against masks (white = blurred):
                                      ODS/OIS F (β²=0.3 and β=1), AP, MAE, PR curve
options:
  --model dbm|purohit      network (default dbm)
  --backend cpu|webgl      cpu: plain TypeScript in Node; webgl: the GPU through
                           headless Chromium (default cpu)
  --weights FILE           weights file(s) instead of the shipped ones (repeat for purohit)
  --patch-stride N         purohit: step between 30×30 patches (default 15)
  --working-size N         shrink images whose long side is over N px before the
                           network, map scaled back (default 640; 0 = native size)
  --json                   machine-readable output
  -h, --help               this help
map:
  --out DIR                output folder (default ./blurmap-maps)
eval:
  --maps DIR               score these maps (8-bit PNG, white = blurred) instead of running a model
  --invert-masks           masks are white = sharp (DUT-DBD style)
  --svg FILE               write the precision-recall curve
  --limit N                only the first N images (sorted by name)
`;

class UsageError extends Error {}

const OPTIONS = {
  model: { type: "string", default: "dbm" },
  backend: { type: "string", default: "cpu" },
  out: { type: "string", default: "blurmap-maps" },
  weights: { type: "string", multiple: true },
  "patch-stride": { type: "string" },
  "working-size": { type: "string" },
  json: { type: "boolean", default: false },
  help: { type: "boolean", short: "h", default: false },
  images: { type: "string" },
  masks: { type: "string" },
  maps: { type: "string" },
  "invert-masks": { type: "boolean", default: false },
  svg: { type: "string" },
  limit: { type: "string" },
} as const;

type Values = ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true }>>["values"];

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: OPTIONS });
  const [command, ...rest] = positionals;
  if (values.help || !command) {
    process.stdout.write(USAGE);
    return values.help ? 0 : 2;
  }
  if (command === "map") return mapCommand(rest, values);
  if (command === "rank") return rankCommand(rest, values);
  if (command === "eval") return evalCommand(rest, values);
  throw new UsageError(`unknown command "${command}" (commands: map, rank, eval)`);
}

function positiveInt(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!(Number.isSafeInteger(n) && n > 0)) throw new UsageError(`${flag} must be a positive integer, got "${value}"`);
  return n;
}

/** Opens the model the options name, warning loudly when only test fixtures are installed. */
async function openModel(values: Values): Promise<MapRunner> {
  const kind = values.model as ModelKind;
  if (kind !== "dbm" && kind !== "purohit") throw new UsageError(`--model must be dbm or purohit, got "${values.model}"`);
  const backend = values.backend;
  if (backend !== "cpu" && backend !== "webgl") throw new UsageError(`--backend must be cpu or webgl, got "${backend}"`);
  const patchStride = positiveInt(values["patch-stride"], "--patch-stride");
  const workingSize = values["working-size"] === "0" ? 0 : positiveInt(values["working-size"], "--working-size");
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
  return openRunner(backend, weightPaths, { patchStride, workingSize });
}

function errorFor(file: string, e: unknown): string {
  const raw = (e as Error).message;
  return raw.startsWith(file) ? raw : `${file}: ${raw}`;
}

async function mapCommand(images: string[], values: Values): Promise<number> {
  if (images.length === 0) throw new UsageError("map: no images given");
  const outDir = resolve(values.out!);
  const inputs = new Set(images.map((i) => resolve(i)));
  const written = new Map<string, string>(); // output -> the input it was made from, this run
  const runner = await openModel(values);
  let failed = 0;
  try {
    mkdirSync(outDir, { recursive: true });
    for (const file of images) {
      const target = join(outDir, `${basename(file, extname(file))}.png`);
      try {
        if (inputs.has(target)) throw new Error(`output ${target} would overwrite an input image; choose another --out`);
        if (written.has(target)) throw new Error(`output ${target} was already written for ${written.get(target)} (same file name); map them into separate --out folders`);
        const image = readImageFile(file);
        const started = performance.now();
        const map = await runner.run(image);
        const ms = performance.now() - started;
        writeAtomically(target, encodeMapPng(map));
        written.set(target, file);
        const degree = blurDegree(map);
        const report = { input: file, output: target, width: image.width, height: image.height, model: runner.kind, backend: runner.backend, ms: Math.round(ms), blur_degree: Number(degree.toFixed(4)) };
        process.stdout.write(values.json ? `${JSON.stringify(report)}\n` : `${file} -> ${target} (${image.width}×${image.height}, ${report.ms} ms, blur degree ${report.blur_degree})\n`);
      } catch (e) {
        failed++;
        const message = errorFor(file, e);
        process.stderr.write(values.json ? `${JSON.stringify({ input: file, error: message })}\n` : `blurmap: ${message}\n`);
      }
    }
  } finally {
    await runner.close();
  }
  if (failed) process.stderr.write(`blurmap: ${failed} of ${images.length} image(s) failed\n`);
  return failed ? 1 : 0;
}

async function rankCommand(images: string[], values: Values): Promise<number> {
  if (images.length === 0) throw new UsageError("rank: no images given");
  const runner = await openModel(values);
  const ranked: { image: string; blur_degree: number }[] = [];
  let failed = 0;
  try {
    for (const [i, file] of images.entries()) {
      try {
        ranked.push({ image: file, blur_degree: blurDegree(await runner.run(readImageFile(file))) });
      } catch (e) {
        failed++;
        process.stderr.write(`blurmap: ${errorFor(file, e)}\n`);
      }
      if (!values.json && process.stderr.isTTY) process.stderr.write(`\rrank ${i + 1}/${images.length}`);
    }
  } finally {
    await runner.close();
  }
  if (!values.json && process.stderr.isTTY) process.stderr.write("\n");
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
      const stem = basename(file, extname(file));
      const maskImage = readImageFile(masks.get(stem)!);
      const mask = Array.from({ length: maskImage.width * maskImage.height }, (_, p) => (maskImage.data[p * 4] >= 128) !== values["invert-masks"]);
      let map: ArrayLike<number>;
      if (runner) {
        const image = readImageFile(join(values.images, file));
        if (image.width !== maskImage.width || image.height !== maskImage.height)
          throw new Error(`${file} is ${image.width}×${image.height} but its mask is ${maskImage.width}×${maskImage.height}`);
        map = (await runner.run(image)).data;
      } else {
        const mapImage = readImageFile(join(values.maps!, `${stem}.png`));
        if (mapImage.width !== maskImage.width || mapImage.height !== maskImage.height)
          throw new Error(`map ${stem}.png is ${mapImage.width}×${mapImage.height} but its mask is ${maskImage.width}×${maskImage.height}`);
        map = Array.from({ length: mapImage.width * mapImage.height }, (_, p) => mapImage.data[p * 4] / 255);
      }
      counts.push(countImage(map, mask));
      if (!values.json && process.stderr.isTTY) process.stderr.write(`\reval ${i + 1}/${images.length}`);
    }
  } finally {
    await runner?.close();
  }
  const s = score(counts);
  const source = runner ? `${runner.kind} on ${runner.backend}` : `maps in ${values.maps}`;
  if (values.svg) writeAtomically(values.svg, new TextEncoder().encode(prCurveSvg(s, `${source}, ${s.images} images`)));
  const { curve: _curve, ...summary } = s;
  if (values.json) process.stdout.write(`${JSON.stringify({ source, ...summary, seconds: (performance.now() - started) / 1000 })}\n`);
  else
    process.stdout.write(
      `${process.stderr.isTTY ? "\n" : ""}${source}, ${s.images} images\n` +
        `  ODS F(β²=0.3) ${s.odsF.toFixed(4)} (threshold ${s.odsThreshold.toFixed(3)})   OIS F(β²=0.3) ${s.oisF.toFixed(4)}\n` +
        `  ODS F(β=1)    ${s.odsF1.toFixed(4)}   OIS F(β=1)    ${s.oisF1.toFixed(4)}\n` +
        `  AP ${s.ap.toFixed(4)}   MAE ${s.mae.toFixed(4)}\n`,
    );
  return 0;
}

/** Temp file + rename: a reader never sees a half-written PNG, and a failure leaves any old file intact. */
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
    process.stderr.write(`blurmap: ${(e as Error).message}\n${usage ? "run 'blurmap --help' for usage\n" : ""}`);
    if (process.env.BLURMAP_DEBUG) console.error(e);
    process.exitCode = 2;
  },
);
