/**
 * tools/convert-weights: a trained network -> blurmap's safetensors file.
 *
 *   npm run convert-weights -- --model dbm --in runs/dbm/export.safetensors --out weights/dbm.safetensors
 *
 * Input: safetensors (blurmap's naming, or another with --rename). Output:
 * fp16 (default) or fp32, metadata carried over (--architecture and
 * --provenance override it), BatchNorm folded where the engine's graph has none.
 */
import { existsSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { MODEL_NAMES, type ModelName } from "../../src/weights/metadata.js";
import { parseSafetensors, writeSafetensors } from "../../src/weights/safetensors.js";
import { convert, formatTable } from "./convert.js";

const USAGE = `usage: convert-weights --model ${MODEL_NAMES.join("|")} --in FILE --out FILE
  [--dtype f16|f32] [--rename PATTERN=REPLACEMENT ...] [--architecture JSON] [--provenance TEXT]`;

function main(): number {
  const { values } = parseArgs({
    options: {
      model: { type: "string" },
      in: { type: "string" },
      out: { type: "string" },
      dtype: { type: "string", default: "f16" },
      rename: { type: "string", multiple: true, default: [] },
      architecture: { type: "string" },
      provenance: { type: "string" },
      force: { type: "boolean", default: false },
    },
  });
  const model = values.model as ModelName;
  if (!MODEL_NAMES.includes(model) || !values.in || !values.out) throw new Error(USAGE);
  if (values.dtype !== "f16" && values.dtype !== "f32") throw new Error(`--dtype must be f16 or f32, got "${values.dtype}"`);
  if (existsSync(values.out) && !values.force) throw new Error(`${values.out} exists; pass --force to replace it`);
  const source = parseSafetensors(new Uint8Array(readFileSync(values.in)), values.in);
  const metadata = { ...source.metadata };
  if (values.architecture) metadata.architecture = values.architecture;
  if (values.provenance) metadata.provenance = values.provenance;
  const renames = values.rename!.map((r) => {
    const i = r.indexOf("=");
    if (i < 0) throw new Error(`--rename needs PATTERN=REPLACEMENT, got "${r}"`);
    return [r.slice(0, i), r.slice(i + 1)] as const;
  });
  const result = convert(source.tensors, { model, metadata, renames });
  const dtype = values.dtype === "f16" ? "F16" : "F32";
  const bytes = writeSafetensors(result.tensors, result.metadata, dtype);
  const tmp = `${values.out}.tmp-${process.pid}`;
  writeFileSync(tmp, bytes);
  renameSync(tmp, values.out);
  console.log(formatTable(result.table, dtype));
  console.log(`\n${values.out}: ${model}, ${result.tensors.length} tensors, ${bytes.length} bytes (${dtype})`);
  return 0;
}

try {
  process.exitCode = main();
} catch (e) {
  console.error(`convert-weights: ${(e as Error).message}`);
  process.exitCode = 2;
}
