// The CLI end to end, as a user runs it: both backends on the bundled sample,
// the PNGs compared; and the failure paths (exit codes, messages, no lost files).
import { execFile } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { PNG } from "pngjs";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { pngFromChunks, ROOT } from "./helpers.js";

const run = promisify(execFile);
const CLI = join(ROOT, "dist", "cli.js");
const SAMPLE = join(ROOT, "samples", "sample.png");

async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run("node", [CLI, ...args], { cwd: ROOT });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

for (const model of ["dbm", "purohit"]) {
  test(`cli map --model ${model}: cpu and webgl PNGs agree within 1 grey level`, async () => {
    const out = mkdtempSync(join(tmpdir(), "blurmap-cli-"));
    // --working-size 160 keeps the full-size shipped networks quick here; the map is still scaled back to 320×240.
    const cpu = await cli(["map", SAMPLE, "--model", model, "--backend", "cpu", "--working-size", "160", "--out", join(out, "cpu")]);
    assert.is(cpu.code, 0, cpu.stderr);
    const gl = await cli(["map", SAMPLE, "--model", model, "--backend", "webgl", "--working-size", "160", "--out", join(out, "webgl")]);
    assert.is(gl.code, 0, gl.stderr);
    const a = PNG.sync.read(readFileSync(join(out, "cpu", "sample.png")));
    const b = PNG.sync.read(readFileSync(join(out, "webgl", "sample.png")));
    const src = PNG.sync.read(readFileSync(SAMPLE));
    assert.equal([a.width, a.height], [src.width, src.height], "map is the input's size");
    assert.equal([b.width, b.height], [src.width, src.height]);
    let maxDiff = 0;
    let distinct = new Set<number>();
    for (let i = 0; i < a.data.length; i += 4) {
      maxDiff = Math.max(maxDiff, Math.abs(a.data[i] - b.data[i]));
      distinct.add(a.data[i]);
    }
    console.log(`    cli ${model}: cpu vs webgl max grey-level difference ${maxDiff}, ${distinct.size} distinct grey levels`);
    assert.ok(maxDiff <= 1, `cpu and webgl maps differ by ${maxDiff} grey levels`);
    assert.ok(distinct.size > 1, "the map is a constant image");
  });
}

test("cli: a batch continues past a missing and a non-image file, exits 1, names each", async () => {
  const dir = mkdtempSync(join(tmpdir(), "blurmap-cli-"));
  const out = join(dir, "maps");
  const bogus = join(dir, "notes.png");
  writeFileSync(bogus, "this is text, not a PNG");
  const r = await cli(["map", join(dir, "missing.png"), bogus, SAMPLE, "--out", out, "--working-size", "160"]);
  assert.is(r.code, 1);
  assert.match(r.stderr, "missing.png: cannot read image (no such file)");
  assert.match(r.stderr, "notes.png: not a PNG or JPEG image");
  assert.match(r.stderr, "2 of 3 image(s) failed");
  assert.ok(existsSync(join(out, "sample.png")), "the good image was still mapped");
  assert.is(readFileSync(bogus, "utf8"), "this is text, not a PNG", "the input file is untouched");
});

test("cli: refuses to write a map over its own input", async () => {
  const out = mkdtempSync(join(tmpdir(), "blurmap-cli-"));
  const input = join(out, "photo.png");
  writeFileSync(input, readFileSync(SAMPLE));
  const r = await cli(["map", input, "--out", out]);
  assert.is(r.code, 1);
  assert.match(r.stderr, "would overwrite an input image");
  assert.equal(readFileSync(input), readFileSync(SAMPLE), "the input is unchanged");
});

test("cli: two inputs with the same name never overwrite each other's map", async () => {
  const dir = mkdtempSync(join(tmpdir(), "blurmap-cli-"));
  for (const sub of ["a", "b"]) {
    mkdirSync(join(dir, sub));
    writeFileSync(join(dir, sub, "photo.png"), readFileSync(SAMPLE));
  }
  const r = await cli(["map", join(dir, "a", "photo.png"), join(dir, "b", "photo.png"), "--out", join(dir, "maps"), "--working-size", "64"]);
  assert.is(r.code, 1);
  assert.match(r.stderr, "was already written for");
  assert.ok(existsSync(join(dir, "maps", "photo.png")));
});

test("cli: usage errors exit 2 with a message", async () => {
  for (const [args, message] of [
    [["map", SAMPLE, "--backend", "metal"], '--backend must be auto, cpu or webgl, got "metal"'],
    [["map", SAMPLE, "--cpu-conv", "avx"], '--cpu-conv must be simd or reference, got "avx"'],
    [["segment", SAMPLE, "--solver", "icm"], '--solver must be meanfield or graphcut, got "icm"'],
    [["segment", SAMPLE, "--smoothness=-1"], '--smoothness must be a number ≥ 0, got "-1"'],
    [["magnify", SAMPLE, "--strength", "3"], '--strength must be in (0, 0.2], got "3"'],
    [["bench", "--size", "100"], "--size: each size must be a multiple of 16"],
    [["bench", "--compare", "onnx"], '--compare: expected tfjs, pytorch or none, got "onnx"'],
    [["bench", "--block-pixels", "1,9"], '--block-pixels: each count must be an integer in 1..8, got "1,9"'],
    [["map", SAMPLE, "--model", "vgg"], '--model must be dbm or purohit, got "vgg"'],
    [["map"], "map: no images given"],
    [["frobnicate"], 'unknown command "frobnicate"'],
    [["map", SAMPLE, "--patch-stride", "0"], "--patch-stride must be a positive integer"],
    [["map", SAMPLE, "--tile-size=1.5"], "--tile-size must be a positive integer"],
    [["map", SAMPLE, "--backend", "cpu", "--tile-size", "100"], /^blurmap: tileSize must be 0 \(never tile\) or a whole number of pixels ≥ 227/],
  ] as const) {
    const r = await cli([...args]);
    assert.is(r.code, 2, `${args.join(" ")}: exit code`);
    assert.match(r.stderr, message);
    assert.not.match(r.stderr, "    at ", "no stack trace");
  }
});

test("cli eval: masks scored as their own maps give F = AP = 1, MAE = 0; inverted masks MAE = 1", async () => {
  const dir = mkdtempSync(join(tmpdir(), "blurmap-eval-"));
  for (const sub of ["images", "masks"]) mkdirSync(join(dir, sub));
  writeFileSync(join(dir, "images", "sample.png"), readFileSync(SAMPLE));
  writeFileSync(join(dir, "masks", "sample.png"), readFileSync(join(ROOT, "samples", "sample-mask.png")));
  const svg = join(dir, "pr.svg");
  const perfect = await cli(["eval", "--images", join(dir, "images"), "--masks", join(dir, "masks"), "--maps", join(dir, "masks"), "--json", "--svg", svg]);
  assert.is(perfect.code, 0, perfect.stderr);
  const s = JSON.parse(perfect.stdout);
  assert.equal([s.images, s.odsF, s.oisF, s.ap, s.mae], [1, 1, 1, 1, 0]);
  assert.match(readFileSync(svg, "utf8"), "<polyline");
  const inverted = JSON.parse((await cli(["eval", "--images", join(dir, "images"), "--masks", join(dir, "masks"), "--maps", join(dir, "masks"), "--invert-masks", "--json"])).stdout);
  assert.is(inverted.mae, 1);
  const model = await cli(["eval", "--images", join(dir, "images"), "--masks", join(dir, "masks"), "--json", "--working-size", "160"]);
  assert.is(model.code, 0, model.stderr);
  const m = JSON.parse(model.stdout);
  assert.ok(m.odsF > 0 && m.odsF <= 1 && m.mae >= 0 && m.mae <= 1, model.stdout);
  const noMask = await cli(["eval", "--images", join(ROOT, "samples"), "--masks", join(dir, "images")]);
  assert.is(noMask.code, 2);
  assert.match(noMask.stderr, "no mask in");
});

test("cli rank: sharpest first, S in [0, 1], a bad file reported and skipped", async () => {
  const dir = mkdtempSync(join(tmpdir(), "blurmap-rank-"));
  writeFileSync(join(dir, "broken.png"), "not an image");
  const r = await cli(["rank", SAMPLE, join(ROOT, "samples", "sample-mask.png"), join(dir, "broken.png"), "--json", "--working-size", "160"]);
  assert.is(r.code, 1, "one file failed");
  assert.match(r.stderr, "broken.png: not a PNG or JPEG image");
  const out = JSON.parse(r.stdout);
  assert.is(out.sharpest_first.length, 2);
  const [a, b] = out.sharpest_first.map((x: { blur_degree: number }) => x.blur_degree);
  assert.ok(a <= b && a >= 0 && b <= 1, r.stdout);
});

test("cli --help and <command> --help exit 0 and document every command", async () => {
  const r = await cli(["--help"]);
  assert.is(r.code, 0);
  for (const c of ["map", "segment", "magnify", "rank", "eval", "bench"]) {
    assert.match(r.stdout, `blurmap ${c}`);
    const one = await cli([c, "--help"]);
    assert.is(one.code, 0, c);
    assert.match(one.stdout, `blurmap ${c}`);
  }
  assert.match((await cli(["segment", "--help"])).stdout, "--solver meanfield|graphcut");
});

test("cli: every bad-input case names the file and the problem, and an existing output is never lost", async () => {
  const dir = mkdtempSync(join(tmpdir(), "blurmap-bad-"));
  const out = join(dir, "out");
  mkdirSync(out);
  const cases: [string, Uint8Array | string, string][] = [
    ["text.png", "this is text, not a PNG", "not a PNG or JPEG image (unrecognised file signature)"],
    ["anim.gif", "GIF89a\x01\x00\x01\x00", "not a PNG or JPEG image"],
    ["cut.png", readFileSync(SAMPLE).subarray(0, 300), "cannot decode PNG"],
    ["empty.png", pngFromChunks(0, 0, 2, 8, [], new Uint8Array()), "image is empty (0×0)"],
    ["huge.png", pngFromChunks(100000, 100000, 2, 8, [], new Uint8Array(1)), "100000×100000 is over the 67108864-pixel limit"],
    ["tiny.png", pngFromChunks(1, 1, 2, 8, [], new Uint8Array([0, 1, 2, 3])), "dbm needs an image at least 16×16 pixels; this one is 1×1"],
    ["folder.png", "", "is a directory"],
  ];
  for (const [name, body] of cases) {
    if (name === "folder.png") mkdirSync(join(dir, name));
    else writeFileSync(join(dir, name), body);
    writeFileSync(join(out, name.replace(/\.\w+$/, ".png")), "precious"); // an earlier result of the same name
  }
  const r = await cli(["map", ...cases.map(([n]) => join(dir, n)), join(dir, "missing.png"), "--out", out, "--backend", "cpu"]);
  assert.is(r.code, 1);
  console.log(`    bad inputs:\n${r.stderr.trim().split("\n").map((l) => `      ${l}`).join("\n")}`);
  for (const [name, , message] of cases) {
    assert.match(r.stderr, `${name}: `, name);
    assert.match(r.stderr, message, name);
    assert.is(readFileSync(join(out, name.replace(/\.\w+$/, ".png")), "utf8"), "precious", `${name}: the existing output was kept`);
  }
  assert.match(r.stderr, "missing.png: cannot read image (no such file)");
  assert.match(r.stderr, "8 of 8 image(s) failed");
  assert.not.match(r.stderr, "    at ", "no stack trace");
});

test("cli segment: cpu and webgl masks agree (mean-field), graph cut close; binary PNG, blurred share reported", async () => {
  const out = mkdtempSync(join(tmpdir(), "blurmap-seg-"));
  const masks: Record<string, PNG> = {};
  for (const [label, extra] of [["cpu", ["--backend", "cpu"]], ["webgl", ["--backend", "webgl"]], ["graphcut", ["--backend", "cpu", "--solver", "graphcut"]]] as const) {
    const r = await cli(["segment", SAMPLE, "--working-size", "160", "--json", "--out", join(out, label), ...extra]);
    assert.is(r.code, 0, r.stderr);
    const report = JSON.parse(r.stdout);
    assert.ok(report.blurred_share > 0.2 && report.blurred_share < 0.8, `${label}: the sample is partly blurred (${report.blurred_share})`);
    masks[label] = PNG.sync.read(readFileSync(join(out, label, "sample.png")));
  }
  const agree = (a: PNG, b: PNG) => {
    let same = 0;
    for (let i = 0; i < a.data.length; i += 4) same += a.data[i] === b.data[i] ? 1 : 0;
    return same / (a.data.length / 4);
  };
  assert.ok([...masks.cpu.data].every((v, i) => i % 4 === 3 || v === 0 || v === 255), "a binary mask");
  const gpuCpu = agree(masks.cpu, masks.webgl);
  const exact = agree(masks.webgl, masks.graphcut);
  console.log(`    cli segment: webgl vs cpu mean-field ${(100 * gpuCpu).toFixed(3)}%, webgl mean-field vs cpu graph cut ${(100 * exact).toFixed(2)}%`);
  assert.ok(gpuCpu >= 0.999);
  assert.ok(exact >= 0.97);
});

test("cli magnify: an RGB PNG of the photo's size; sharp regions keep their pixels, blurred ones change; cpu = webgl within 1 level", async () => {
  const out = mkdtempSync(join(tmpdir(), "blurmap-mag-"));
  const photo = PNG.sync.read(readFileSync(SAMPLE));
  const mask = PNG.sync.read(readFileSync(join(ROOT, "samples", "sample-mask.png"))); // white = blurred
  const results: PNG[] = [];
  for (const backend of ["cpu", "webgl"]) {
    const r = await cli(["magnify", SAMPLE, "--backend", backend, "--working-size", "160", "--strength", "0.03", "--out", join(out, backend)]);
    assert.is(r.code, 0, r.stderr);
    results.push(PNG.sync.read(readFileSync(join(out, backend, "sample.png"))));
  }
  const [cpu, gl] = results;
  assert.equal([cpu.width, cpu.height], [photo.width, photo.height]);
  let maxDiff = 0;
  const change = { sharp: 0, blurred: 0, nSharp: 0, nBlurred: 0 };
  for (let p = 0; p < photo.width * photo.height; p++) {
    const d = Math.abs(cpu.data[p * 4] - photo.data[p * 4]);
    if (mask.data[p * 4] > 128) (change.blurred += d), change.nBlurred++;
    else (change.sharp += d), change.nSharp++;
    for (let c = 0; c < 3; c++) maxDiff = Math.max(maxDiff, Math.abs(cpu.data[p * 4 + c] - gl.data[p * 4 + c]));
  }
  const [sharp, blurred] = [change.sharp / change.nSharp, change.blurred / change.nBlurred];
  console.log(`    cli magnify: mean |change| ${sharp.toFixed(2)} levels in sharp regions, ${blurred.toFixed(2)} in blurred ones; cpu vs webgl max ${maxDiff}`);
  assert.ok(blurred > 4 * sharp, "the added blur lands in the blurred regions");
  assert.ok(maxDiff <= 1);
});

test("cli bench: the JSON has the documented shape, and TF.js's DBM agrees with ours on the same weights", async () => {
  const json = join(mkdtempSync(join(tmpdir(), "blurmap-bench-")), "bench.json");
  const r = await cli(["bench", "--model", "dbm", "--size", "32", "--runs", "1", "--compare", "tfjs", "--cpu-size", "16", "--json", json]);
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stdout, "| engine | backend | model | size |");
  const report = JSON.parse(readFileSync(json, "utf8"));
  assert.type(report.device, "string");
  assert.ok(report.peak.gflops > 0 && report.peak.gbps > 0);
  const row = (engine: string, backend: string, model: string) => report.results.find((x: any) => x.engine === engine && x.backend === backend && x.model === model);
  for (const [engine, backend] of [["blurmap", "webgl"], ["tfjs", "webgl"], ["blurmap", "cpu"]]) {
    const x = row(engine, backend, "dbm");
    assert.ok(x, `${engine} ${backend} row`);
    for (const key of ["engine", "backend", "model", "size", "ms_first", "ms_median", "gflops", "peak_fraction", "peak_bytes"]) assert.ok(key in x, `${engine}: ${key}`);
    assert.ok(x.ms_median > 0);
  }
  assert.ok(row("tfjs", "webgl", "dbm").max_abs_diff < 1e-4, `TF.js vs blurmap: ${row("tfjs", "webgl", "dbm").max_abs_diff}`);
  assert.ok(row("blurmap", "webgl", "dbm.conv3_3").gflops > 0, "per-layer rows");
});

test("cli: the default backend is auto, and says which it chose and why", async () => {
  const r = await cli(["map", SAMPLE, "--working-size", "64", "--out", mkdtempSync(join(tmpdir(), "blurmap-auto-"))]);
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stderr, /blurmap: backend (cpu: WebGL here is a software renderer|webgl: hardware GPU|cpu: no Chromium|cpu: WebGL unavailable)/);
});

test.run();
