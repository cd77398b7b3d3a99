/**
 * tools/convert-weights: a trained network -> blurmap's safetensors file.
 *
 *   npm run convert-weights -- --model dbm --in runs/dbm/best.pt --out weights/dbm.safetensors
 *
 * Inputs, told apart by their first bytes and name: safetensors (any naming),
 * PyTorch checkpoints (.pt/.pth zip; a state dict, or a dict holding one),
 * ONNX (.onnx initializers) and Caffe (.caffemodel; blobs become
 * "<layer>.weight"/"<layer>.bias"). Names are mapped with --rename, BatchNorm
 * is folded where the engine's graph has none, every shape is checked against
 * the graph, and the file is written as fp16 (default) or fp32.
 */
import { existsSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { basename, extname } from "node:path";
import { parseArgs } from "node:util";
import { MODEL_NAMES, type ModelName } from "../../src/weights/metadata.js";
import { parseSafetensors, writeSafetensors } from "../../src/weights/safetensors.js";
import { convert, formatTable, type SourceTensor } from "./convert.js";
import { readPth } from "./pth.js";
import { readCaffe, readOnnx } from "./protobuf.js";

const USAGE = `usage: convert-weights --model ${MODEL_NAMES.join("|")} --in FILE --out FILE [options]
  --dtype f16|f32            stored precision (default f16)
  --rename PATTERN=REPL      rename source tensors (JS RegExp, repeatable, applied in order)
  --bgr                      the network was trained on BGR input (Caffe): reorder its first conv
  --architecture JSON        e.g. '{"width": 1}' (default: the source's metadata, else the standard one)
  --normalisation JSON       '{"mean": [..], "std": [..]}' on RGB in [0, 1] (default: source's, else ImageNet)
  --provenance TEXT          how the weights were made (default: source's, else the source file name)
  --force                    replace --out if it exists`;

const DEFAULT_ARCHITECTURE: Record<ModelName, unknown> = {
  dbm: { width: 1 },
  "purohit-patch": { filters: [32, 64, 128] },
  "purohit-unet": { filters: 64, depth: 8, size: 256 },
};
const IMAGENET = { mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] };

export interface Source {
  readonly format: string;
  readonly tensors: Map<string, SourceTensor>;
  readonly metadata: Record<string, string>;
}

export function readSource(bytes: Uint8Array, file: string): Source {
  const ext = extname(file).toLowerCase();
  if (bytes[0] === 0x50 && bytes[1] === 0x4b) return { format: "pytorch", tensors: stripContainer(readPth(bytes, file)), metadata: {} };
  if (ext === ".onnx") return { format: "onnx", tensors: readOnnx(bytes, file), metadata: {} };
  if (ext === ".caffemodel") return { format: "caffe", tensors: readCaffe(bytes, file), metadata: {} };
  if (ext === ".safetensors") {
    const s = parseSafetensors(bytes, file);
    return { format: "safetensors", tensors: new Map(s.tensors), metadata: { ...s.metadata } };
  }
  throw new Error(`${file}: unknown format (expected .safetensors, .pt/.pth, .onnx or .caffemodel)`);
}

/** A checkpoint dict holding its state dict under one key ("model.", "state_dict."): strip that key. */
function stripContainer(tensors: Map<string, SourceTensor>): Map<string, SourceTensor> {
  const heads = new Set([...tensors.keys()].map((k) => k.split(".")[0]));
  if (heads.size !== 1) return tensors;
  const [head] = heads;
  if (!["model", "state_dict", "model_state_dict", "net"].includes(head)) return tensors;
  return new Map([...tensors].map(([k, v]) => [k.slice(head.length + 1), v]));
}

function main(): void {
  const { values } = parseArgs({
    options: {
      model: { type: "string" },
      in: { type: "string" },
      out: { type: "string" },
      dtype: { type: "string", default: "f16" },
      rename: { type: "string", multiple: true, default: [] },
      bgr: { type: "boolean", default: false },
      architecture: { type: "string" },
      normalisation: { type: "string" },
      provenance: { type: "string" },
      force: { type: "boolean", default: false },
    },
  });
  const model = values.model as ModelName;
  if (!MODEL_NAMES.includes(model) || !values.in || !values.out) throw new Error(USAGE);
  if (values.dtype !== "f16" && values.dtype !== "f32") throw new Error(`--dtype must be f16 or f32, got "${values.dtype}"`);
  if (existsSync(values.out) && !values.force) throw new Error(`${values.out} exists; pass --force to replace it`);
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(readFileSync(values.in));
  } catch (e) {
    throw new Error(`${values.in}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  const source = readSource(bytes, values.in);
  const metadata: Record<string, string> = {
    architecture: JSON.stringify(DEFAULT_ARCHITECTURE[model]),
    normalisation: JSON.stringify(IMAGENET),
    provenance: `converted from ${basename(values.in)} (${source.format}) by tools/convert-weights`,
    architecture_version: "1",
    output: "1 = blurred",
    ...source.metadata,
  };
  if (values.architecture) metadata.architecture = values.architecture;
  if (values.normalisation) metadata.normalisation = values.normalisation;
  if (values.provenance) metadata.provenance = values.provenance;
  const renames = values.rename!.map((r) => {
    const i = r.indexOf("=");
    if (i < 0) throw new Error(`--rename needs PATTERN=REPLACEMENT, got "${r}"`);
    return [r.slice(0, i), r.slice(i + 1)] as const;
  });
  const result = convert(source.tensors, { model, metadata, renames, bgr: values.bgr });
  const dtype = values.dtype === "f16" ? "F16" : "F32";
  const out = writeSafetensors(result.tensors, result.metadata, dtype);
  const tmp = `${values.out}.tmp-${process.pid}`;
  writeFileSync(tmp, out);
  renameSync(tmp, values.out);
  console.log(formatTable(result.table, dtype));
  console.log(`\n${values.in} (${source.format}) -> ${values.out}: ${model}, ${result.tensors.length} tensors, ${out.length} bytes`);
}

if (process.argv[1] && import.meta.url.endsWith(basename(process.argv[1]))) {
  try {
    main();
  } catch (e) {
    console.error(`convert-weights: ${(e as Error).message}`);
    process.exitCode = 2;
  }
}
