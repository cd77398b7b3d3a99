/**
 * The safetensors format (https://huggingface.co/docs/safetensors): an 8-byte
 * little-endian header length, a JSON header mapping tensor names to
 * {dtype, shape, data_offsets} (plus "__metadata__", string to string), then
 * the raw little-endian data. Parsing trusts nothing in the header: every
 * size and offset is checked against the file before a byte is read.
 */
import { bfloat16ToFloat, floatToHalf, halfToFloat } from "./fp16.js";

export type DType = "F32" | "F16" | "BF16";
const DTYPE_BYTES: Record<DType, number> = { F32: 4, F16: 2, BF16: 2 };
const MAX_HEADER_BYTES = 100 * 1024 * 1024;

export interface StoredTensor {
  readonly dtype: DType;
  readonly shape: readonly number[];
  /** Decoded to float32. */
  readonly data: Float32Array;
}

export interface SafetensorsFile {
  readonly metadata: Readonly<Record<string, string>>;
  readonly tensors: ReadonlyMap<string, StoredTensor>;
}

export class WeightsError extends Error {
  constructor(file: string, message: string) {
    super(`${file}: ${message}`);
    this.name = "WeightsError";
  }
}

export function parseSafetensors(bytes: Uint8Array, file = "weights"): SafetensorsFile {
  const fail = (msg: string): never => {
    throw new WeightsError(file, msg);
  };
  if (bytes.length < 8) fail(`truncated: ${bytes.length} bytes, but a safetensors file starts with an 8-byte header length`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLen = view.getUint32(0, true) + view.getUint32(4, true) * 2 ** 32;
  if (headerLen > MAX_HEADER_BYTES) fail(`header length ${headerLen} is over the ${MAX_HEADER_BYTES}-byte limit: not a safetensors file, or corrupt`);
  if (8 + headerLen > bytes.length) fail(`truncated: the header claims ${headerLen} bytes but only ${bytes.length - 8} follow`);
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes.subarray(8, 8 + headerLen)));
  } catch (e) {
    fail(`header is not valid UTF-8 JSON (${(e as Error).message})`);
  }
  if (typeof header !== "object" || header === null || Array.isArray(header)) fail("header is not a JSON object");
  const data = bytes.subarray(8 + headerLen);
  const entries = header as Record<string, unknown>;
  const metadata: Record<string, string> = {};
  const tensors = new Map<string, StoredTensor>();
  const ranges: [number, number, string][] = [];
  for (const [name, entry] of Object.entries(entries)) {
    if (name === "__metadata__") {
      if (typeof entry !== "object" || entry === null) fail("__metadata__ is not an object");
      for (const [k, v] of Object.entries(entry as object)) {
        if (typeof v !== "string") fail(`__metadata__.${k} is not a string`);
        metadata[k] = v as string;
      }
      continue;
    }
    const e = entry as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (typeof e !== "object" || e === null) fail(`tensor "${name}": header entry is not an object`);
    if (typeof e.dtype !== "string" || !(e.dtype in DTYPE_BYTES))
      fail(`tensor "${name}": dtype ${JSON.stringify(e.dtype)} is not supported (expected F32, F16 or BF16)`);
    const dtype = e.dtype as DType;
    if (!Array.isArray(e.shape) || !e.shape.every((d) => Number.isSafeInteger(d) && d >= 0))
      fail(`tensor "${name}": shape ${JSON.stringify(e.shape)} is not a list of non-negative integers`);
    const shape = e.shape as number[];
    const offsets = e.data_offsets;
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => Number.isSafeInteger(o) && o >= 0))
      fail(`tensor "${name}": data_offsets ${JSON.stringify(offsets)} is not a pair of non-negative integers`);
    const [begin, end] = offsets as [number, number];
    if (begin > end || end > data.length)
      fail(`tensor "${name}": data_offsets [${begin}, ${end}] point outside the ${data.length} data bytes (file truncated or header corrupt)`);
    const count = shape.reduce((a, b) => a * b, 1);
    if (end - begin !== count * DTYPE_BYTES[dtype])
      fail(`tensor "${name}": holds ${end - begin} bytes, but ${dtype} shape [${shape.join(", ")}] needs ${count * DTYPE_BYTES[dtype]}`);
    ranges.push([begin, end, name]);
    tensors.set(name, { dtype, shape, data: decode(data.subarray(begin, end), dtype, count) });
  }
  ranges.sort((a, b) => a[0] - b[0]);
  for (let i = 1; i < ranges.length; i++)
    if (ranges[i][0] < ranges[i - 1][1]) fail(`tensors "${ranges[i - 1][2]}" and "${ranges[i][2]}" overlap in the data`);
  return { metadata, tensors };
}

function decode(raw: Uint8Array, dtype: DType, count: number): Float32Array {
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const out = new Float32Array(count);
  if (dtype === "F32") for (let i = 0; i < count; i++) out[i] = view.getFloat32(i * 4, true);
  else if (dtype === "F16") for (let i = 0; i < count; i++) out[i] = halfToFloat(view.getUint16(i * 2, true));
  else for (let i = 0; i < count; i++) out[i] = bfloat16ToFloat(view.getUint16(i * 2, true));
  return out;
}

export interface TensorToWrite {
  readonly name: string;
  readonly shape: readonly number[];
  readonly data: Float32Array;
  /** Overrides the file's dtype for this tensor (e.g. F32 for a layer too sensitive for F16). */
  readonly dtype?: "F32" | "F16";
}

/**
 * Writes tensors (in the order given) with string metadata. "F16" stores weight
 * tensors in half precision but keeps vectors (biases, BatchNorm statistics) in
 * F32: they are tiny, and their rounding error is amplified through deep stacks.
 */
export function writeSafetensors(tensors: readonly TensorToWrite[], metadata: Record<string, string>, dtype: "F32" | "F16"): Uint8Array {
  const dtypeOf = (t: TensorToWrite): "F32" | "F16" => t.dtype ?? (dtype === "F16" && t.shape.length > 1 ? "F16" : "F32");
  const header: Record<string, unknown> = { __metadata__: metadata };
  let offset = 0;
  for (const t of tensors) {
    const count = t.shape.reduce((a, b) => a * b, 1);
    if (count !== t.data.length) throw new Error(`tensor "${t.name}": ${t.data.length} values for shape [${t.shape.join(", ")}]`);
    const bytes = count * DTYPE_BYTES[dtypeOf(t)];
    header[t.name] = { dtype: dtypeOf(t), shape: t.shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  const raw = new TextEncoder().encode(JSON.stringify(header));
  const json = new Uint8Array(Math.ceil(raw.length / 8) * 8).fill(0x20); // space-padded: keeps the data 8-byte aligned
  json.set(raw);
  const out = new Uint8Array(8 + json.length + offset);
  const view = new DataView(out.buffer);
  view.setUint32(0, json.length, true);
  out.set(json, 8);
  let p = 8 + json.length;
  for (const t of tensors) {
    const half = dtypeOf(t) === "F16";
    for (const v of t.data) {
      if (half) view.setUint16(p, floatToHalf(v), true);
      else view.setFloat32(p, v, true);
      p += half ? 2 : 4;
    }
  }
  return out;
}
