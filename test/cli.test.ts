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
import { ROOT } from "./helpers.js";

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
    [["map", SAMPLE, "--backend", "metal"], '--backend must be cpu or webgl, got "metal"'],
    [["map", SAMPLE, "--model", "vgg"], '--model must be dbm or purohit, got "vgg"'],
    [["map"], "map: no images given"],
    [["frobnicate"], 'unknown command "frobnicate"'],
    [["map", SAMPLE, "--patch-stride", "0"], "--patch-stride must be a positive integer"],
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

test("cli --help exits 0 and documents map", async () => {
  const r = await cli(["--help"]);
  assert.is(r.code, 0);
  assert.match(r.stdout, "blurmap map <images...>");
});

test.run();
