// WebGL == CPU reference in headless Chromium (SwiftShader when there is no GPU):
// every op case, and all three networks plus the Purohit pipeline on seeded random
// inputs of odd sizes, layer by layer. Tolerance: abs 1e-4 + rel 1e-3 per element.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { decodeImage } from "../src/image/decode.js";
import { ChromiumPage } from "../src/node/chromium.js";
import { FP16_MAP_BOUND } from "../src/parity.js";
import type { ParityResult } from "./browser/page.js";
import { FIXTURES, ROOT } from "./helpers.js";

const gpu = suite<{ page?: ChromiumPage }>("webgl parity");
// Trained weights, where shipped: the real network widths (full VGG16 for DBM).
const SHIPPED = ["dbm.safetensors", "purohit-patch.safetensors", "purohit-unet.safetensors"].filter((f) => existsSync(join(ROOT, "weights", f)));

const SAMPLE = decodeImage(new Uint8Array(readFileSync(join(ROOT, "samples", "sample.png"))), "sample.png");

gpu.before(async (ctx) => {
  const files = new Map(readdirSync(FIXTURES).map((f) => [`/fixtures/${f}`, new Uint8Array(readFileSync(join(FIXTURES, f)))]));
  files.set("/samples/photo.rgba", Uint8Array.from(SAMPLE.data));
  for (const f of SHIPPED) files.set(`/weights/${f}`, new Uint8Array(readFileSync(join(ROOT, "weights", f))));
  ctx.page = await ChromiumPage.open(join(ROOT, "dist", "test-page.js"), files);
  const renderer = await ctx.page.page.evaluate(() => (window as any).parity.renderer);
  console.log(`    WebGL renderer: ${renderer}`);
});

gpu.after(async (ctx) => {
  await ctx.page?.close();
});

function check(results: ParityResult[], label: string) {
  const worst = results.reduce((m, r) => Math.max(m, r.maxAbsError), 0);
  console.log(`    webgl vs cpu ${label}: ${results.length} tensor(s), max abs err ${worst.toExponential(2)}`);
  for (const r of results) assert.ok(r.ok, `${r.label}: max abs err ${r.maxAbsError}; ${r.detail}`);
}

gpu("every op case", async ({ page }) => {
  const results: ParityResult[] = await page!.page.evaluate(() => (window as any).parity.ops());
  assert.ok(results.length >= 18, `expected every op case, got ${results.length}`);
  for (const r of results) check([r], r.label);
});

const networks: [string, string, number, number, number][] = [
  ["DBM (width 1/8), 37×53", "dbm", 37, 53, 1],
  ["DBM (width 1/8), 61×45", "dbm", 61, 45, 2],
  ["Purohit patch net, 7 patches", "patch", 7, 0, 3],
  ["Purohit U-Net, 32×32", "unet", 32, 32, 4],
  ["Purohit pipeline, 37×53", "purohit", 37, 53, 5],
  ["Purohit pipeline, 47×31", "purohit", 47, 31, 6],
];
if (SHIPPED.includes("dbm.safetensors")) networks.push(["DBM shipped weights (VGG16 widths), 37×53", "dbm-shipped", 37, 53, 7]);
if (SHIPPED.includes("purohit-unet.safetensors")) networks.push(["Purohit shipped weights (U-Net 256², depth 8), 41×57", "purohit-shipped", 41, 57, 8]);
if (SHIPPED.includes("dbm.safetensors"))
  gpu("fp16 storage: shipped DBM 37×53, every layer within max(2% of its range, 1e-3), the map within 1e-2", async ({ page }) => {
    const results: ParityResult[] = await page!.page.evaluate(() => (window as any).parity.network("dbm-shipped", 37, 53, 7, "fp16"));
    const map = results[results.length - 1];
    console.log(`    fp16 DBM: map max abs err ${map.maxAbsError.toExponential(2)}; worst layer ${results.reduce((w, r) => (r.maxAbsError > w.maxAbsError ? r : w)).label} ${results.reduce((m, r) => Math.max(m, r.maxAbsError), 0).toExponential(2)}`);
    for (const r of results) assert.ok(r.ok, `${r.label}: max abs err ${r.maxAbsError}; ${r.detail}`);
  });
if (SHIPPED.includes("dbm.safetensors"))
  gpu("half-float weights on a hardware GPU: shipped DBM 37×53 (its weights are exact halves), every layer within the fp32 bound, at under 60% of the weight bytes", async ({ page }) => {
    const r = await page!.page.evaluate(() => (window as any).parity.halfWeights(37, 53, 9));
    console.log(`    weight texture bytes: ${r.bytes.hardware} as a GPU stores them, ${r.bytes.software} on a software renderer`);
    check(r.results, "half-float weights");
    assert.ok(r.bytes.hardware < 0.6 * r.bytes.software, `weights not stored as half floats: ${JSON.stringify(r.bytes)}`);
  });
if (SHIPPED.includes("purohit-unet.safetensors"))
  gpu("fp16 storage: shipped Purohit 41×57, every layer within max(2% of its range, 1e-3), the map within 1e-2", async ({ page }) => {
    const results: ParityResult[] = await page!.page.evaluate(() => (window as any).parity.network("purohit-shipped", 41, 57, 8, "fp16"));
    console.log(`    fp16 Purohit: map max abs err ${results[results.length - 1].maxAbsError.toExponential(2)}`);
    for (const r of results) assert.ok(r.ok, `${r.label}: max abs err ${r.maxAbsError}; ${r.detail}`);
  });

for (const [label, name, h, w, seed] of networks) {
  gpu(label, async ({ page }) => {
    const results: ParityResult[] = await page!.page.evaluate((n, hh, ww, s) => (window as any).parity.network(n, hh, ww, s), name, h, w, seed);
    check(results, label);
  });
}

// Real GPUs have 4 to 8 draw buffers (SwiftShader 8): blocks of 1, 3 and 4 pixels must give the same maps.
for (const drawBuffers of [1, 3, 4])
  gpu(`a GPU with ${drawBuffers} draw buffer(s): DBM (width 1/8) 37×53 and the U-Net 32×32 (transposed convs), every layer`, async ({ page }) => {
    for (const [name, h, w, seed] of [["dbm", 37, 53, 11], ["unet", 32, 32, 12]] as const) {
      const results: ParityResult[] = await page!.page.evaluate((n, hh, ww, s, d) => (window as any).parity.network(n, hh, ww, s, "fp32", d), name, h, w, seed, drawBuffers);
      check(results, `${name} with ${drawBuffers} draw buffer(s)`);
    }
  });

// Tiles: DBM's 227-pixel minimum tile (90 px of context each side) on a 300×260 image;
// Purohit (patch stride 10) 90-pixel tiles on 203×171.
for (const [kind, width, height, tileSize, seed] of [["dbm", 300, 260, 227, 13], ["purohit", 203, 171, 90, 14]] as const)
  gpu(`${kind} run as ${tileSize}-pixel tiles on a ${width}×${height} image: the one-pass map on WebGL, and the tiled CPU map`, async ({ page }) => {
    const r = await page!.page.evaluate((k, w, h, t, s) => (window as any).parity.tiling(k, w, h, t, s), kind, width, height, tileSize, seed);
    console.log(`    ${kind} tiled vs one pass: max abs diff ${r.tiledVsWhole.toExponential(2)} (bit-identical: ${r.identical}); tiled webgl vs tiled cpu: ${r.tiledVsCpu.maxAbsError.toExponential(2)}`);
    assert.ok(r.tiledVsWhole <= 1e-6, `tiled and one-pass maps differ by ${r.tiledVsWhole}`);
    assert.ok(r.tiledVsCpu.ok, `tiled webgl vs cpu: ${JSON.stringify(r.tiledVsCpu)}`);
  });

gpu("MRF (mean-field, 20 passes) on a 45×61 test card, every pass", async ({ page }) => {
  check(await page!.page.evaluate(() => (window as any).parity.mrfLayers(45, 61, 9)), "MRF 45×61");
});

gpu("blur magnification on a 50×70 test card, every pass", async ({ page }) => {
  check(await page!.page.evaluate(() => (window as any).parity.magnifyLayers(50, 70, 10)), "magnify 50×70");
});

if (SHIPPED.includes("dbm.safetensors"))
  gpu("segment and magnify on the sample photo (shipped DBM, working size 128): GPU vs CPU, and mean-field vs exact graph cut", async ({ page }) => {
    const r = await page!.page.evaluate((w, h) => (window as any).parity.applications(w, h, 128), SAMPLE.width, SAMPLE.height);
    console.log(
      `    sample ${SAMPLE.width}×${SAMPLE.height}: mask agreement GPU mean-field vs CPU mean-field ${(100 * r.gpuVsCpuMeanField).toFixed(3)}%, ` +
        `vs CPU graph cut ${(100 * r.gpuMeanFieldVsGraphCut).toFixed(2)}%; blurred share ${(100 * r.blurredShare).toFixed(1)}%; ` +
        `map max abs err ${r.mapMaxAbsError.toExponential(2)} (fp16 storage ${r.fp16MapMaxAbsError.toExponential(2)}); magnified max byte diff ${r.magnifyMaxByteDiff}; MRF ${r.gpuMrfMs.toFixed(0)} ms GPU, graph cut ${r.cpuGraphCutMs.toFixed(0)} ms`,
    );
    assert.ok(r.mapMaxAbsError < 1e-4, `map: ${r.mapMaxAbsError}`);
    assert.ok(r.fp16MapMaxAbsError <= FP16_MAP_BOUND, `fp16 map: ${r.fp16MapMaxAbsError}`);
    assert.ok(r.gpuVsCpuMeanField >= 0.999, `GPU and CPU mean-field masks agree on ${r.gpuVsCpuMeanField}`);
    assert.ok(r.gpuMeanFieldVsGraphCut >= 0.97, `mean-field vs graph cut: ${r.gpuMeanFieldVsGraphCut}`);
    assert.ok(r.blurredShare > 0.05 && r.blurredShare < 0.95, "the sample is partly blurred: the mask must say so");
    assert.ok(r.magnifyMaxByteDiff <= 1, `magnified images differ by ${r.magnifyMaxByteDiff} levels`);
  });

gpu.run();
