/**
 * One interface over the two ways Node runs a model: in-process on the CPU, or
 * on the GPU through WebGL in headless Chromium (Node itself has no WebGL).
 */
import { basename, join } from "node:path";
import type { RgbaImage } from "../image/preprocess.js";
import { BlurMapModel, type BlurMap, type ModelKind, type ModelOptions } from "../model.js";
import { readWeightsFile } from "../weights/load.js";
import { loadModelFromFiles, PACKAGE_ROOT, readFileBytes } from "../node.js";
import { ChromiumPage, floatsFromBase64 } from "./chromium.js";

export interface MapRunner {
  readonly kind: ModelKind;
  readonly backend: "cpu" | "webgl";
  run(image: RgbaImage): Promise<BlurMap>;
  close(): Promise<void>;
}

export type RunnerOptions = Pick<ModelOptions, "patchStride" | "workingSize">;

export async function openRunner(backend: "cpu" | "webgl", weightPaths: readonly string[], opts: RunnerOptions = {}): Promise<MapRunner> {
  if (backend === "cpu") {
    const model = loadModelFromFiles(weightPaths, { ...opts, backend: "cpu" });
    return { kind: model.kind, backend, run: async (image) => model.run(image).map, close: async () => model.dispose() };
  }
  // Read each file once; parse it in Node first, so bad weights fail here with the file's own name.
  const bytes = weightPaths.map((p) => readFileBytes(p, "weights"));
  const kind = new BlurMapModel(bytes.map((b, i) => readWeightsFile(b, basename(weightPaths[i]))), { ...opts, backend: "cpu" }).kind;
  const weights = new Map(weightPaths.map((p, i) => [`/weights/${i}/${basename(p)}`, bytes[i]]));
  const chromium = await ChromiumPage.open(join(PACKAGE_ROOT, "dist", "blurmap.js"), weights);
  try {
    await chromium.page.evaluate(async (urls, options) => {
      const w = window as any;
      w.model = await w.lib.loadModel(urls, { ...options, backend: "webgl" });
    }, [...weights.keys()], { ...opts });
  } catch (e) {
    await chromium.close();
    throw new Error(`blurmap: WebGL in headless Chromium failed: ${(e as Error).message}`);
  }
  let count = 0;
  return {
    kind,
    backend,
    async run(image) {
      const path = `/images/${count++}`;
      chromium.serve(path, new Uint8Array(image.data.buffer, image.data.byteOffset, image.data.byteLength));
      try {
        const b64: string = await chromium.page.evaluate(async (url, width, height) => {
          const data = new Uint8Array(await (await fetch(url)).arrayBuffer());
          const { map } = (window as any).model.run({ width, height, data });
          const bytes = new Uint8Array(map.data.buffer, map.data.byteOffset, map.data.byteLength);
          let s = "";
          for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
          return btoa(s);
        }, path, image.width, image.height);
        return { width: image.width, height: image.height, data: floatsFromBase64(b64) };
      } finally {
        chromium.unserve(path);
      }
    },
    close: () => chromium.close(),
  };
}
