/**
 * The converter's core, free of I/O: source tensors (any naming, BatchNorm
 * folded or not) -> the engine's tensors for one model, plus a table of what
 * was done. Every shape is checked against the model's graph by binding the
 * result exactly as the engine will.
 */
import { buildDbm, type DbmArchitecture } from "../../src/graph/dbm.js";
import type { Graph } from "../../src/graph/ir.js";
import { buildPatchNet, buildUNet, type PatchNetArchitecture, type UNetArchitecture } from "../../src/graph/purohit.js";
import type { Param } from "../../src/kernels/kernel.js";
import { BATCHNORM_EPS, BATCHNORM_FIELDS, foldBatchNorm } from "../../src/weights/batchnorm.js";
import { bindWeights } from "../../src/weights/bind.js";
import { readModelInfo, type ModelName } from "../../src/weights/metadata.js";
import type { TensorToWrite } from "../../src/weights/safetensors.js";

export interface SourceTensor {
  readonly shape: readonly number[];
  readonly data: Float32Array;
}

export interface ConvertOptions {
  readonly model: ModelName;
  /** The weights' __metadata__ (format, architecture, normalisation, provenance, ...). */
  readonly metadata: Record<string, string>;
  /** [pattern, replacement] pairs applied in order to every source name (JS RegExp syntax). */
  readonly renames?: readonly (readonly [string, string])[];
  /** Reverse the first conv's input channels: for networks trained on BGR input (Caffe). */
  readonly bgr?: boolean;
}

export interface TableRow {
  readonly name: string;
  readonly from: string;
  readonly shape: readonly number[];
  readonly action: string;
}

export interface Converted {
  readonly tensors: TensorToWrite[];
  readonly metadata: Record<string, string>;
  readonly table: TableRow[];
}

/** The network alone, at a nominal size: only its parameters matter here. */
export function modelGraph(model: ModelName, architecture: unknown): Graph {
  if (model === "dbm") return buildDbm(32, 32, architecture as DbmArchitecture);
  if (model === "purohit-patch") return buildPatchNet(1, architecture as PatchNetArchitecture);
  return buildUNet(architecture as UNetArchitecture);
}

export function renameAll(source: ReadonlyMap<string, SourceTensor>, renames: ConvertOptions["renames"] = []): Map<string, { from: string; tensor: SourceTensor }> {
  const out = new Map<string, { from: string; tensor: SourceTensor }>();
  for (const [from, tensor] of source) {
    if (from.endsWith("num_batches_tracked")) continue; // BatchNorm's step counter: not a weight
    const name = renames.reduce((n, [pattern, replacement]) => n.replace(new RegExp(pattern), replacement), from);
    if (out.has(name)) throw new Error(`renaming maps both "${out.get(name)!.from}" and "${from}" to "${name}"`);
    out.set(name, { from, tensor });
  }
  return out;
}

export function convert(source: ReadonlyMap<string, SourceTensor>, opts: ConvertOptions): Converted {
  const metadata = { ...opts.metadata, format: "blurmap", model: opts.model };
  const info = readModelInfo(metadata, "converted weights");
  const graph = modelGraph(opts.model, info.architecture);
  const named = renameAll(source, opts.renames);
  const used = new Set<string>();
  const tensors: TensorToWrite[] = [];
  const table: TableRow[] = [];
  const take = (name: string): { from: string; tensor: SourceTensor } => {
    const t = named.get(name);
    if (!t) throw new Error(`no source tensor for "${name}" (after renaming); source has: ${[...named.keys()].slice(0, 12).join(", ")}${named.size > 12 ? ", ..." : ""}`);
    used.add(name);
    return t;
  };
  const emit = (name: string, from: string, p: Param, action: string, dtype?: "F32") => {
    tensors.push({ name, shape: p.shape, data: p.data, dtype });
    table.push({ name, from, shape: p.shape, action: dtype ? `${action}; kept F32` : action });
  };

  for (const node of graph.nodes) {
    const spec = node.params;
    if (!spec) continue;
    const w = take(`${spec.prefix}.weight`);
    const b = take(`${spec.prefix}.bias`);
    const readsImage = node.inputs.includes(graph.inputs[0]);
    // The layer that reads the image is small and the most sensitive to rounding
    // (measured: fp16 there alone moved the U-Net's map by 5e-3): keep it F32.
    const firstLayerDtype = readsImage ? ("F32" as const) : undefined;
    const weight = opts.bgr && readsImage ? reverseInputChannels(w.tensor) : w.tensor;
    const wAction = weight === w.tensor ? "copied" : "copied, input channels BGR -> RGB";
    const bnPrefix = spec.batchNorm ?? spec.prefix.replace(/\.conv$/, ".bn");
    const hasBn = BATCHNORM_FIELDS.every((f) => named.has(`${bnPrefix}.${f}`));
    if (spec.batchNorm || !hasBn || bnPrefix === spec.prefix) {
      emit(`${spec.prefix}.weight`, w.from, weight, wAction, firstLayerDtype);
      emit(`${spec.prefix}.bias`, b.from, b.tensor, "copied");
      if (spec.batchNorm) {
        const channels = b.tensor.shape[0];
        for (const f of BATCHNORM_FIELDS) {
          if (hasBn) {
            const t = take(`${spec.batchNorm}.${f}`);
            emit(`${spec.batchNorm}.${f}`, t.from, t.tensor, "copied (folded at load)");
          } else {
            // The source already folded this BatchNorm into the conv (ONNX export does): write an identity.
            const value = { weight: 1, bias: 0, running_mean: 0, running_var: 1 - BATCHNORM_EPS }[f];
            emit(`${spec.batchNorm}.${f}`, "-", { shape: [channels], data: new Float32Array(channels).fill(value) }, "identity (already folded in source)");
          }
        }
      }
      continue;
    }
    // The engine's graph has no BatchNorm here: fold the source's into the conv.
    const [gamma, beta, mean, variance] = BATCHNORM_FIELDS.map((f) => take(`${bnPrefix}.${f}`).tensor.data);
    const outAxis = node.op === "conv_transpose2d" ? 1 : 0;
    const folded = foldBatchNorm(weight, b.tensor, { gamma, beta, mean, variance }, outAxis);
    emit(`${spec.prefix}.weight`, w.from, folded.weight, `BatchNorm ${bnPrefix} folded in`, firstLayerDtype);
    emit(`${spec.prefix}.bias`, b.from, folded.bias, `BatchNorm ${bnPrefix} folded in`);
  }
  const unused = [...named.keys()].filter((n) => !used.has(n));
  if (unused.length) throw new Error(`source tensors not used by the ${opts.model} graph: ${unused.join(", ")}`);
  // Bind exactly as the engine will: every shape is checked here, before anything is written.
  const stored = new Map(tensors.map((t) => [t.name, { dtype: "F32" as const, shape: t.shape, data: t.data }]));
  bindWeights(graph, new Map([[opts.model, { name: "converted weights", metadata, tensors: stored, info }]]));
  return { tensors, metadata, table };
}

/** OIHW weight with I reversed (BGR <-> RGB). */
function reverseInputChannels(w: SourceTensor): SourceTensor {
  const [o, i, ...rest] = w.shape;
  const inner = rest.reduce((a, b) => a * b, 1);
  const data = new Float32Array(w.data.length);
  for (let a = 0; a < o; a++)
    for (let c = 0; c < i; c++) data.set(w.data.subarray((a * i + c) * inner, (a * i + c + 1) * inner), (a * i + (i - 1 - c)) * inner);
  return { shape: w.shape, data };
}

export function formatTable(rows: readonly TableRow[], dtype: string): string {
  const head = ["tensor", "from", "shape", `action (stored as ${dtype})`];
  const cells = rows.map((r) => [r.name, r.from === r.name ? "=" : r.from, `[${r.shape.join(", ")}]`, r.action]);
  const widths = head.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i].length)));
  const line = (c: string[]) => c.map((s, i) => s.padEnd(widths[i])).join("  ");
  return [line(head), line(widths.map((w) => "-".repeat(w))), ...cells.map(line)].join("\n");
}
