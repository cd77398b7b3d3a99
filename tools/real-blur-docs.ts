// Writes docs/real-blur/<photo>.png: the photo beside the blur maps the shipped
// weights give (white = blurred), run by the engine, for every photo in
// ../shared/datasets/real_blur. Photos are shrunk to a long side of --size (box filter).
//   node --import tsx tools/real-blur-docs.ts [--size 384] [--backend cpu|webgl]
import { mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { basename, extname, join } from "node:path";
import { parseArgs } from "node:util";
import { PNG } from "pngjs";
import type { RgbaImage } from "../src/image/preprocess.js";
import { defaultWeightPaths, PACKAGE_ROOT, readImageFile } from "../src/node.js";
import { openRunner, type MapRunner } from "../src/node/runners.js";

const { values } = parseArgs({ options: { size: { type: "string", default: "384" }, backend: { type: "string", default: "cpu" } } });
const SRC = join(PACKAGE_ROOT, "..", "shared", "datasets", "real_blur");
const OUT = join(PACKAGE_ROOT, "docs", "real-blur");

function shrink(image: RgbaImage, longSide: number): RgbaImage {
  const f = Math.max(image.width, image.height) / longSide;
  if (f <= 1) return image;
  const width = Math.round(image.width / f);
  const height = Math.round(image.height / f);
  const data = new Uint8Array(width * height * 4);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) {
      const y0 = Math.floor(y * f), y1 = Math.max(y0 + 1, Math.floor((y + 1) * f));
      const x0 = Math.floor(x * f), x1 = Math.max(x0 + 1, Math.floor((x + 1) * f));
      for (let c = 0; c < 4; c++) {
        let sum = 0;
        for (let yy = y0; yy < y1; yy++) for (let xx = x0; xx < x1; xx++) sum += image.data[(yy * image.width + xx) * 4 + c];
        data[(y * width + x) * 4 + c] = Math.round(sum / ((y1 - y0) * (x1 - x0)));
      }
    }
  return { width, height, data };
}

const runners: [string, MapRunner][] = [];
for (const kind of ["dbm", "purohit"] as const) {
  const { paths, fixture } = defaultWeightPaths(kind);
  if (!fixture) runners.push([kind, await openRunner(values.backend as "cpu" | "webgl", paths)]);
}
if (runners.length === 0) throw new Error("no shipped weights in weights/");
mkdirSync(OUT, { recursive: true });
const gap = 4;
for (const file of readdirSync(SRC).filter((f) => /\.(jpe?g|png)$/i.test(f)).sort()) {
  const image = shrink(readImageFile(join(SRC, file)), Number(values.size));
  const panels = 1 + runners.length;
  const png = new PNG({ width: panels * image.width + (panels - 1) * gap, height: image.height });
  png.data.fill(255);
  const put = (panel: number, rgba: (i: number) => [number, number, number]) => {
    for (let y = 0; y < image.height; y++)
      for (let x = 0; x < image.width; x++) {
        const o = (y * png.width + panel * (image.width + gap) + x) * 4;
        const [r, g, b] = rgba(y * image.width + x);
        png.data[o] = r; png.data[o + 1] = g; png.data[o + 2] = b; png.data[o + 3] = 255;
      }
  };
  put(0, (i) => [image.data[i * 4], image.data[i * 4 + 1], image.data[i * 4 + 2]]);
  const degrees: string[] = [];
  for (const [p, [kind, runner]] of runners.entries()) {
    const started = performance.now();
    const map = await runner.run(image);
    const v = (i: number) => Math.round(Math.min(1, Math.max(0, map.data[i])) * 255);
    put(p + 1, (i) => [v(i), v(i), v(i)]);
    degrees.push(`${kind} S=${(map.data.reduce((a, b) => a + b, 0) / map.data.length).toFixed(3)} (${((performance.now() - started) / 1000).toFixed(1)} s)`);
  }
  writeFileSync(join(OUT, `${basename(file, extname(file))}.png`), PNG.sync.write(png));
  console.log(`${file} ${image.width}×${image.height}: ${degrees.join(", ")}`);
}
for (const [, r] of runners) await r.close();
