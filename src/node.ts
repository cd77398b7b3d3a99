/**
 * blurmap in Node: the public API plus files. The "webgl" backend is not
 * available in Node itself (no WebGL); the CLI reaches it through headless
 * Chromium (node/chromium.ts).
 */
import { existsSync, readFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { decodeImage } from "./image/decode.js";
import type { RgbaImage } from "./image/preprocess.js";
import { BlurMapModel, type ModelKind, type ModelOptions } from "./model.js";
import { readWeightsFile } from "./weights/load.js";

export * from "./index.js";
export { decodeImage, encodeMapPng, encodeRgbaPng } from "./image/decode.js";
export { useCpuThreads, type CpuThreads } from "./node/cpu-threads.js";

/** The package root (holds weights/ and test/fixtures/), from src/ or dist/ alike. */
export const PACKAGE_ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");

const SHIPPED: Record<ModelKind, readonly string[]> = {
  dbm: ["dbm.safetensors"],
  purohit: ["purohit-patch.safetensors", "purohit-unet.safetensors"],
};
const FIXTURES: Record<ModelKind, readonly string[]> = {
  dbm: ["dbm-tiny.safetensors"],
  purohit: ["purohit-patch.safetensors", "purohit-unet.safetensors"],
};

/**
 * The weights files a model loads by default: the shipped, trained ones in
 * weights/, or, where those are missing, the random test fixtures (`fixture`
 * is then true and callers must say so loudly: their maps mean nothing).
 */
export function defaultWeightPaths(kind: ModelKind): { paths: string[]; fixture: boolean } {
  const shipped = SHIPPED[kind].map((f) => join(PACKAGE_ROOT, "weights", f));
  if (shipped.every((p) => existsSync(p))) return { paths: shipped, fixture: false };
  return { paths: FIXTURES[kind].map((f) => join(PACKAGE_ROOT, "test", "fixtures", f)), fixture: true };
}

export function readFileBytes(path: string, what: string): Uint8Array {
  try {
    return new Uint8Array(readFileSync(path));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new Error(`${path}: cannot read ${what} (${code === "ENOENT" ? "no such file" : code === "EISDIR" ? "is a directory" : (e as Error).message})`);
  }
}

export function loadModelFromFiles(paths: readonly string[], opts: ModelOptions = {}): BlurMapModel {
  return new BlurMapModel(paths.map((p) => readWeightsFile(readFileBytes(p, "weights"), basename(p))), { backend: "cpu", ...opts });
}

export function readImageFile(path: string): RgbaImage {
  return decodeImage(readFileBytes(path, "image"), path);
}
