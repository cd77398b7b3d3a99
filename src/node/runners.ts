/**
 * One interface over the ways Node runs a model: in-process on the CPU, or on
 * the GPU through WebGL in headless Chromium (Node itself has no WebGL), and
 * "auto", which takes WebGL only where Chromium has a hardware GPU: on a
 * software renderer (SwiftShader) the CPU path is faster.
 */
import { basename, join } from "node:path";
import type { RgbaImage } from "../image/preprocess.js";
import { BlurMapModel, runJob, type Job, type JobResult, type ModelKind, type ModelOptions } from "../model.js";
import { readWeightsFile } from "../weights/load.js";
import { loadModelFromFiles, PACKAGE_ROOT, readFileBytes } from "../node.js";
import { ChromiumPage, chromiumPath } from "./chromium.js";
import { useCpuThreads } from "./cpu-threads.js";

export type RunnerBackend = "cpu" | "webgl" | "auto";

export interface MapRunner {
  readonly kind: ModelKind;
  readonly backend: "cpu" | "webgl";
  /** The GL renderer on webgl; on the CPU, the convolution loops and the thread count. */
  readonly device: string;
  /** Why "auto" chose this backend (absent when the caller named one). */
  readonly reason?: string;
  run(image: RgbaImage, job?: Job): Promise<JobResult>;
  close(): Promise<void>;
}

export type RunnerOptions = Pick<ModelOptions, "patchStride" | "workingSize" | "tileSize" | "precision" | "cpuConv">;

const SOFTWARE_RENDERER = /swiftshader|llvmpipe|softpipe|software|microsoft basic render/i;

export async function openRunner(backend: RunnerBackend, weightPaths: readonly string[], opts: RunnerOptions = {}): Promise<MapRunner> {
  if (backend === "cpu") return cpuRunner(weightPaths, opts);
  if (backend === "webgl") return webglRunner(weightPaths, opts);
  try {
    chromiumPath();
  } catch {
    return cpuRunner(weightPaths, opts, "no Chromium found for WebGL");
  }
  let gpu: MapRunner;
  try {
    gpu = await webglRunner(weightPaths, opts);
  } catch (e) {
    return cpuRunner(weightPaths, opts, `WebGL unavailable (${(e as Error).message.split("\n")[0]})`);
  }
  if (!SOFTWARE_RENDERER.test(gpu.device)) return { ...gpu, reason: `hardware GPU: ${gpu.device}` };
  await gpu.close();
  return cpuRunner(weightPaths, opts, `WebGL here is a software renderer (${gpu.device}), slower than the CPU path`);
}

function cpuRunner(weightPaths: readonly string[], opts: RunnerOptions, reason?: string): MapRunner {
  // Storage precision is a GPU texture format: the CPU path always computes in fp32.
  const model = loadModelFromFiles(weightPaths, { ...opts, precision: undefined, backend: "cpu" });
  const threads = useCpuThreads();
  return {
    kind: model.kind,
    backend: "cpu",
    device: `${model.device}, ${threads.threads} thread${threads.threads > 1 ? "s" : ""}`,
    reason,
    run: async (image, job = { task: "map" }) => runJob(model, image, job),
    close: async () => {
      model.dispose();
      await threads.close();
    },
  };
}

async function webglRunner(weightPaths: readonly string[], opts: RunnerOptions): Promise<MapRunner> {
  // Read each file once; parse it in Node first, so bad weights fail here with the file's own name.
  const bytes = weightPaths.map((p) => readFileBytes(p, "weights"));
  const kind = new BlurMapModel(bytes.map((b, i) => readWeightsFile(b, basename(weightPaths[i]))), { ...opts, precision: undefined, backend: "cpu" }).kind;
  const weights = new Map(weightPaths.map((p, i) => [`/weights/${i}/${basename(p)}`, bytes[i]]));
  const chromium = await ChromiumPage.open(join(PACKAGE_ROOT, "dist", "blurmap.js"), weights);
  let device: string;
  try {
    device = await chromium.page.evaluate(async (urls, options) => {
      const w = window as any;
      w.model = await w.lib.loadModel(urls, { ...options, backend: "webgl" });
      return w.model.device as string;
    }, [...weights.keys()], { ...opts });
  } catch (e) {
    await chromium.close();
    throw new Error(`blurmap: WebGL in headless Chromium failed: ${(e as Error).message}`);
  }
  let count = 0;
  return {
    kind,
    backend: "webgl",
    device,
    async run(image, job = { task: "map" }) {
      const path = `/images/${count++}`;
      chromium.serve(path, new Uint8Array(image.data.buffer, image.data.byteOffset, image.data.byteLength));
      try {
        // Results cross the DevTools protocol as base64 of their raw bytes.
        const r: { map: string; mask?: string; image?: string } = await chromium.page.evaluate(async (url, width, height, job) => {
          const data = new Uint8Array(await (await fetch(url)).arrayBuffer());
          const result = (window as any).lib.runJob((window as any).model, { width, height, data }, job);
          const b64 = (a: ArrayBufferView) => {
            const bytes = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
            let s = "";
            for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
            return btoa(s);
          };
          return { map: b64(result.map.data), mask: result.mask && b64(result.mask.data), image: result.image && b64(result.image.data) };
        }, path, image.width, image.height, job);
        const size = { width: image.width, height: image.height };
        return {
          map: { ...size, data: new Float32Array(bytesOf(r.map).buffer) },
          mask: r.mask === undefined ? undefined : { ...size, data: bytesOf(r.mask) },
          image: r.image === undefined ? undefined : { ...size, data: bytesOf(r.image) },
        };
      } finally {
        chromium.unserve(path);
      }
    },
    close: () => chromium.close(),
  };
}

/** base64 -> a fresh, aligned Uint8Array. */
function bytesOf(b64: string): Uint8Array {
  const b = Buffer.from(b64, "base64");
  return new Uint8Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
}
