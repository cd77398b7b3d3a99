/**
 * The blurmap command line.
 *
 *   blurmap map <images...> [--model dbm|purohit] [--backend cpu|webgl] [--out DIR]
 *
 * Exit codes: 0 all done; 1 some inputs failed (the rest were still written);
 * 2 bad usage or the model could not be loaded.
 */
import { existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { basename, extname, join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { encodeMapPng } from "./image/decode.js";
import type { ModelKind } from "./model.js";
import { defaultWeightPaths, readImageFile } from "./node.js";
import { openRunner } from "./node/runners.js";

const USAGE = `blurmap: per-pixel blur maps (1 = blurred) from photos.

usage:
  blurmap map <images...> [options]   write <out>/<name>.png for each image:
                                      8-bit greyscale, white = blurred, same size
options:
  --model dbm|purohit      network (default dbm)
  --backend cpu|webgl      cpu: plain TypeScript in Node; webgl: the GPU through
                           headless Chromium (default cpu)
  --out DIR                output folder (default ./blurmap-maps)
  --weights FILE           weights file(s) instead of the shipped ones (repeat for purohit)
  --patch-stride N         purohit: step between 30×30 patches (default 15)
  --json                   print one JSON object per image instead of text
  -h, --help               this help
`;

class UsageError extends Error {}

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      model: { type: "string", default: "dbm" },
      backend: { type: "string", default: "cpu" },
      out: { type: "string", default: "blurmap-maps" },
      weights: { type: "string", multiple: true },
      "patch-stride": { type: "string" },
      json: { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  const [command, ...images] = positionals;
  if (values.help || !command) {
    process.stdout.write(USAGE);
    return values.help ? 0 : 2;
  }
  if (command !== "map") throw new UsageError(`unknown command "${command}" (try: blurmap map <images...>)`);
  if (images.length === 0) throw new UsageError("map: no images given");
  const kind = values.model as ModelKind;
  if (kind !== "dbm" && kind !== "purohit") throw new UsageError(`--model must be dbm or purohit, got "${values.model}"`);
  const backend = values.backend;
  if (backend !== "cpu" && backend !== "webgl") throw new UsageError(`--backend must be cpu or webgl, got "${backend}"`);
  const patchStride = values["patch-stride"] === undefined ? undefined : Number(values["patch-stride"]);
  if (patchStride !== undefined && !(Number.isSafeInteger(patchStride) && patchStride > 0))
    throw new UsageError(`--patch-stride must be a positive integer, got "${values["patch-stride"]}"`);

  let weightPaths = values.weights ?? [];
  if (weightPaths.length === 0) {
    const found = defaultWeightPaths(kind);
    weightPaths = found.paths;
    if (found.fixture)
      process.stderr.write(
        `\n*** WARNING: no trained ${kind} weights are installed (weights/ is empty). ***\n` +
          `*** Using RANDOM TEST-FIXTURE weights: ${weightPaths.map((p) => basename(p)).join(", ")}. ***\n` +
          `*** These maps exercise the engine but say NOTHING about blur. ***\n\n`,
      );
  }

  const outDir = resolve(values.out!);
  const inputs = new Set(images.map((i) => resolve(i)));
  const runner = await openRunner(backend, weightPaths, { patchStride });
  let failed = 0;
  try {
    mkdirSync(outDir, { recursive: true });
    for (const file of images) {
      const target = join(outDir, `${basename(file, extname(file))}.png`);
      try {
        if (inputs.has(target)) throw new Error(`output ${target} would overwrite an input image; choose another --out`);
        const image = readImageFile(file);
        const started = performance.now();
        const map = await runner.run(image);
        const ms = performance.now() - started;
        writeAtomically(target, encodeMapPng(map));
        const degree = map.data.reduce((a, b) => a + b, 0) / map.data.length;
        const report = { input: file, output: target, width: image.width, height: image.height, model: runner.kind, backend, ms: Math.round(ms), blur_degree: Number(degree.toFixed(4)) };
        process.stdout.write(values.json ? `${JSON.stringify(report)}\n` : `${file} -> ${target} (${image.width}×${image.height}, ${report.ms} ms, blur degree ${report.blur_degree})\n`);
      } catch (e) {
        failed++;
        const raw = (e as Error).message;
        const message = raw.startsWith(file) ? raw : `${file}: ${raw}`;
        process.stderr.write(values.json ? `${JSON.stringify({ input: file, error: message })}\n` : `blurmap: ${message}\n`);
      }
    }
  } finally {
    await runner.close();
  }
  if (failed) process.stderr.write(`blurmap: ${failed} of ${images.length} image(s) failed\n`);
  return failed ? 1 : 0;
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
