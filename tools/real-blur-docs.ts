// Writes docs/real-blur/<photo>.png: the photo beside the blur maps the shipped
// weights give (white = blurred), run by the engine, for every photo in
// ../shared/datasets/real_blur. Photos are shrunk to a long side of --size (box filter).
//   node --import tsx tools/real-blur-docs.ts [--size 384] [--backend cpu|webgl]
import { mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { basename, extname, join } from "node:path";
import { parseArgs } from "node:util";
import { PNG } from "pngjs";
import { shrinkToFit } from "../src/image/preprocess.js";
import { blurDegree } from "../src/model.js";
import { defaultWeightPaths, PACKAGE_ROOT, readImageFile } from "../src/node.js";
import { openRunner, type MapRunner } from "../src/node/runners.js";

const { values } = parseArgs({ options: { size: { type: "string", default: "384" }, backend: { type: "string", default: "cpu" } } });
const SRC = join(PACKAGE_ROOT, "..", "shared", "datasets", "real_blur");
const OUT = join(PACKAGE_ROOT, "docs", "real-blur");

const runners: [string, MapRunner][] = [];
for (const kind of ["dbm", "purohit"] as const) {
  const { paths, fixture } = defaultWeightPaths(kind);
  if (!fixture) runners.push([kind, await openRunner(values.backend as "cpu" | "webgl", paths)]);
}
if (runners.length === 0) throw new Error("no shipped weights in weights/");
mkdirSync(OUT, { recursive: true });
const gap = 4;
for (const file of readdirSync(SRC).filter((f) => /\.(jpe?g|png)$/i.test(f)).sort()) {
  const image = shrinkToFit(readImageFile(join(SRC, file)), Number(values.size));
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
    const { map } = await runner.run(image);
    const v = (i: number) => Math.round(Math.min(1, Math.max(0, map.data[i])) * 255);
    put(p + 1, (i) => [v(i), v(i), v(i)]);
    degrees.push(`${kind} S=${blurDegree(map).toFixed(3)} (${((performance.now() - started) / 1000).toFixed(1)} s)`);
  }
  writeFileSync(join(OUT, `${basename(file, extname(file))}.png`), PNG.sync.write(png));
  console.log(`${file} ${image.width}×${image.height}: ${degrees.join(", ")}`);
}
for (const [, r] of runners) await r.close();
