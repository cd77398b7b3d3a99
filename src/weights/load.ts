/** Bytes -> a validated blurmap weights file. */
import type { WeightsFile } from "./bind.js";
import { readModelInfo } from "./metadata.js";
import { parseSafetensors } from "./safetensors.js";

export function readWeightsFile(bytes: Uint8Array, name: string): WeightsFile {
  const parsed = parseSafetensors(bytes, name);
  return { ...parsed, name, info: readModelInfo(parsed.metadata, name) };
}
