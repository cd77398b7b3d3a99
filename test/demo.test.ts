// The demo page in real headless Chromium: served like `npm run demo` serves it,
// given the sample photo through its file input, its map and MRF mask checked
// against the CPU path in Node, and a screenshot taken (written to docs/demo.png
// when BLURMAP_UPDATE_DOCS=1, else to a temporary folder).
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PNG } from "pngjs";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { loadModelFromFiles, readImageFile } from "../src/node.js";
import { compare, FP32_TOLERANCE } from "../src/parity.js";
import { type PageContext, ROOT, servePages } from "./helpers.js";

const demo = suite<PageContext>("demo page");
const SHIPPED = existsSync(join(ROOT, "weights", "dbm.safetensors"));
const WORKING_SIZE = 128; // small: SwiftShader runs the full VGG16

servePages(demo, join(ROOT, "dist", "demo"));

if (SHIPPED)
  demo("a photo given to the page: map and mask match the CPU path, the canvases show them, screenshot saved", async ({ server, browser }) => {
    const page = await browser!.newPage();
    await page.setViewport({ width: 1300, height: 640 });
    const port = (server!.address() as { port: number }).port;
    await page.goto(`http://127.0.0.1:${port}/?model=dbm&backend=webgl&working=${WORKING_SIZE}`);
    await page.waitForFunction(`document.getElementById("status").textContent.startsWith("Ready") || window.demo.error`, { timeout: 120_000 });
    assert.is(await page.evaluate(`window.demo.error`), "", "the model loads from ./weights/");
    const input = await page.$("input#file");
    await input!.uploadFile(join(ROOT, "samples", "sample.png"));
    await page.waitForFunction(`window.demo.runs > 0 || window.demo.error`, { timeout: 300_000 });
    assert.is(await page.evaluate(`window.demo.error`), "");
    const r = (await page.evaluate(`(() => {
      const r = window.demo.result;
      const b64 = (a) => { const u = new Uint8Array(a.buffer, a.byteOffset, a.byteLength); let s = ""; for (let i = 0; i < u.length; i += 32768) s += String.fromCharCode(...u.subarray(i, i + 32768)); return btoa(s); };
      const heat = document.getElementById("heat").getContext("2d").getImageData(0, 0, r.width, r.height).data;
      return { width: r.width, height: r.height, map: b64(r.map), mask: b64(r.mask), degree: r.degree, backend: r.backend, device: r.device, timings: r.timings,
               status: document.getElementById("status").textContent, heat: b64(heat), degreeText: document.getElementById("degree").textContent };
    })()`)) as any;
    const bytes = (b64: string) => new Uint8Array(Buffer.from(b64, "base64"));
    const map = new Float32Array(bytes(r.map).buffer);
    const mask = bytes(r.mask);

    const photo = readImageFile(join(ROOT, "samples", "sample.png"));
    const cpu = loadModelFromFiles([join(ROOT, "weights", "dbm.safetensors")], { workingSize: WORKING_SIZE }).segment(photo);
    const c = compare(map, cpu.map.data, FP32_TOLERANCE);
    const agree = mask.reduce((n, v, i) => n + (v === cpu.mask.data[i] ? 1 : 0), 0) / mask.length;
    console.log(`    demo: ${r.backend} on ${r.device}; map vs CPU max abs err ${c.maxAbsError.toExponential(2)}, mask agreement ${(100 * agree).toFixed(3)}%, S ${r.degreeText}; ${JSON.stringify(r.timings, (_, v) => (typeof v === "number" ? Math.round(v) : v))}`);
    assert.equal([r.width, r.height], [photo.width, photo.height]);
    assert.is(r.backend, "webgl");
    assert.ok(c.ok, `map vs CPU: max abs err ${c.maxAbsError}`);
    assert.ok(agree >= 0.999, `mask agreement ${agree}`);
    assert.is(r.degreeText, r.degree.toFixed(3));

    // The heat canvas is the photo blended with the colour ramp at the slider's 60%: a sharp pixel
    // (map ≈ 0) and a blurred one (map ≈ 1) must show different tints of their photo pixel.
    const heat = bytes(r.heat);
    const blend = (p: number) => [0, 1, 2].map((k) => heat[p * 4 + k] - 0.4 * photo.data[p * 4 + k]);
    const sharpest = map.indexOf(Math.min(...map));
    const blurriest = map.indexOf(Math.max(...map));
    assert.ok(blend(sharpest)[2] > blend(sharpest)[0], "sharp pixels get the ramp's blue end");
    assert.ok(blend(blurriest)[0] > blend(blurriest)[2], "blurred pixels get the ramp's yellow end");

    const target = process.env.BLURMAP_UPDATE_DOCS ? join(ROOT, "docs", "demo.png") : join(mkdtempSync(join(tmpdir(), "blurmap-demo-")), "demo.png");
    await page.screenshot({ path: target as `${string}.png` });
    const shot = PNG.sync.read(readFileSync(target));
    assert.equal([shot.width, shot.height], [1300, 640]);
    console.log(`    screenshot: ${target}`);
  });

demo.run();
