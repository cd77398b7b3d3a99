/**
 * What a blurmap weights file says about itself in its safetensors
 * __metadata__ (all values are strings; structured ones are JSON):
 *
 *   format               "blurmap"
 *   model                "dbm" | "purohit-patch" | "purohit-unet"
 *   architecture_version "1"  (bumped when a graph changes incompatibly)
 *   architecture         JSON: {"width": 1} (dbm), {"filters": [32, 64, 128]}
 *                        (purohit-patch), {"filters": 64, "depth": 8, "size": 256} (purohit-unet)
 *   normalisation        JSON: {"mean": [r, g, b], "std": [r, g, b]}, applied to RGB in [0, 1]
 *   output               "1 = blurred"
 *   provenance           free text or JSON: how the weights were made
 */
import type { DbmArchitecture } from "../graph/dbm.js";
import type { PatchNetArchitecture, UNetArchitecture } from "../graph/purohit.js";
import { WeightsError } from "./safetensors.js";

export const ARCHITECTURE_VERSION = "1";
export const MODEL_NAMES = ["dbm", "purohit-patch", "purohit-unet"] as const;
export type ModelName = (typeof MODEL_NAMES)[number];

export interface Normalisation {
  readonly mean: readonly [number, number, number];
  readonly std: readonly [number, number, number];
}

export type ModelInfo =
  | { readonly model: "dbm"; readonly architecture: DbmArchitecture; readonly normalisation: Normalisation; readonly provenance: string }
  | { readonly model: "purohit-patch"; readonly architecture: PatchNetArchitecture; readonly normalisation: Normalisation; readonly provenance: string }
  | { readonly model: "purohit-unet"; readonly architecture: UNetArchitecture; readonly normalisation: Normalisation; readonly provenance: string };

export function readModelInfo(metadata: Readonly<Record<string, string>>, file: string): ModelInfo {
  const fail = (msg: string): never => {
    throw new WeightsError(file, msg);
  };
  if (metadata.format !== "blurmap") fail(`not a blurmap weights file (__metadata__.format is ${JSON.stringify(metadata.format)}, expected "blurmap"); convert it with tools/convert-weights`);
  const model = metadata.model as ModelName;
  if (!MODEL_NAMES.includes(model)) fail(`__metadata__.model ${JSON.stringify(metadata.model)} is not one of ${MODEL_NAMES.join(", ")}`);
  if (metadata.architecture_version !== ARCHITECTURE_VERSION)
    fail(`architecture version ${JSON.stringify(metadata.architecture_version)} of "${model}" is not the version ${ARCHITECTURE_VERSION} this blurmap runs`);
  if (metadata.output !== "1 = blurred") fail(`__metadata__.output is ${JSON.stringify(metadata.output)}; blurmap expects maps where "1 = blurred"`);
  const json = (key: string): Record<string, unknown> => {
    try {
      const v = JSON.parse(metadata[key] ?? "");
      if (typeof v === "object" && v !== null) return v;
    } catch {
      /* reported below */
    }
    return fail(`__metadata__.${key} is not a JSON object: ${JSON.stringify(metadata[key])}`);
  };
  const norm = json("normalisation");
  const triple = (v: unknown) => Array.isArray(v) && v.length === 3 && v.every((x) => typeof x === "number" && Number.isFinite(x));
  if (!triple(norm.mean) || !triple(norm.std) || (norm.std as number[]).some((s) => s <= 0))
    fail(`__metadata__.normalisation needs "mean" and positive "std" as three numbers each, got ${metadata.normalisation}`);
  const normalisation = norm as unknown as Normalisation;
  const arch = json("architecture");
  const positiveInt = (v: unknown) => Number.isSafeInteger(v) && (v as number) > 0;
  const provenance = metadata.provenance ?? "";
  if (model === "dbm") {
    if (typeof arch.width !== "number" || !(arch.width > 0 && arch.width <= 1)) fail(`dbm architecture needs "width" in (0, 1], got ${metadata.architecture}`);
    return { model, architecture: { width: arch.width as number }, normalisation, provenance };
  }
  if (model === "purohit-patch") {
    if (!Array.isArray(arch.filters) || arch.filters.length === 0 || !arch.filters.every(positiveInt))
      fail(`purohit-patch architecture needs "filters" as positive integers, got ${metadata.architecture}`);
    return { model, architecture: { filters: arch.filters as number[] }, normalisation, provenance };
  }
  if (!positiveInt(arch.filters) || !positiveInt(arch.depth) || !positiveInt(arch.size))
    fail(`purohit-unet architecture needs positive integers "filters", "depth" and "size", got ${metadata.architecture}`);
  return { model, architecture: arch as unknown as UNetArchitecture, normalisation, provenance };
}
