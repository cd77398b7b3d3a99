/**
 * PyTorch checkpoints (torch.save since 1.6: a zip holding data.pkl and one
 * file per storage), read without Python. The unpickler is deliberately
 * narrow: it knows the opcodes torch.save emits and a short list of globals
 * (OrderedDict, tensor rebuilding, storage types). Anything else is refused,
 * so a hostile file can describe data but never run code.
 */
import { unzipSync } from "fflate";
import { halfToFloat, bfloat16ToFloat } from "../../src/weights/fp16.js";
import type { SourceTensor } from "./convert.js";

const STORAGE_TYPES: Record<string, { bytes: number; read: (v: DataView, i: number) => number }> = {
  FloatStorage: { bytes: 4, read: (v, i) => v.getFloat32(i * 4, true) },
  HalfStorage: { bytes: 2, read: (v, i) => halfToFloat(v.getUint16(i * 2, true)) },
  BFloat16Storage: { bytes: 2, read: (v, i) => bfloat16ToFloat(v.getUint16(i * 2, true)) },
  DoubleStorage: { bytes: 8, read: (v, i) => v.getFloat64(i * 8, true) },
  // Integer storages hold counters such as BatchNorm's num_batches_tracked, not weights.
  LongStorage: { bytes: 8, read: (v, i) => Number(v.getBigInt64(i * 8, true)) },
  IntStorage: { bytes: 4, read: (v, i) => v.getInt32(i * 4, true) },
};

interface StorageRef {
  readonly kind: "storage";
  readonly type: string;
  readonly key: string;
}

class Global {
  constructor(readonly name: string) {}
}

const MARK = Symbol("mark");

export function readPth(bytes: Uint8Array, file: string): Map<string, SourceTensor> {
  let entries: Record<string, Uint8Array>;
  try {
    entries = unzipSync(bytes);
  } catch (e) {
    throw new Error(`${file}: not a PyTorch zip checkpoint (${(e as Error).message}); files from torch.save before 1.6 are not supported`);
  }
  const pklName = Object.keys(entries).find((n) => n.endsWith("/data.pkl") || n === "data.pkl");
  if (!pklName) throw new Error(`${file}: zip has no data.pkl, so it is not a torch.save checkpoint`);
  const root = pklName.slice(0, -"data.pkl".length);
  const storage = (ref: StorageRef): Float32Array => {
    const raw = entries[`${root}data/${ref.key}`];
    if (!raw) throw new Error(`${file}: storage ${ref.key} is missing from the zip`);
    const t = STORAGE_TYPES[ref.type];
    const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    const out = new Float32Array(Math.floor(raw.byteLength / t.bytes));
    for (let i = 0; i < out.length; i++) out[i] = t.read(view, i);
    return out;
  };
  const value = unpickle(entries[pklName], file, storage);
  const tensors = new Map<string, SourceTensor>();
  collect(value, "", tensors);
  if (tensors.size === 0) throw new Error(`${file}: holds no tensors`);
  return tensors;
}

/** Flattens nested dicts of tensors into dotted names. */
function collect(v: unknown, prefix: string, out: Map<string, SourceTensor>): void {
  if (v instanceof Map) for (const [k, x] of v) collect(x, prefix ? `${prefix}.${k}` : String(k), out);
  else if (v && typeof v === "object" && "data" in v && "shape" in v && (v as SourceTensor).data instanceof Float32Array) out.set(prefix, v as SourceTensor);
}

function rebuildTensor(file: string, args: unknown[], storage: (r: StorageRef) => Float32Array): SourceTensor {
  const [ref, offset, size, stride] = args as [StorageRef, number, number[], number[]];
  if ((ref as StorageRef | undefined)?.kind !== "storage") throw new Error(`${file}: a tensor refers to no storage`);
  const dims = (v: unknown): v is number[] => Array.isArray(v) && v.length <= 8 && v.every((d) => Number.isSafeInteger(d) && d >= 0);
  if (!Number.isSafeInteger(offset) || offset < 0 || !dims(size) || !dims(stride) || size.length !== stride.length)
    throw new Error(`${file}: a tensor has a malformed offset, size or stride`);
  const data = storage(ref);
  const shape = [...size];
  const count = shape.reduce((a, b) => a * b, 1);
  const out = new Float32Array(count);
  const index = new Array(shape.length).fill(0);
  for (let i = 0; i < count; i++) {
    let src = offset;
    for (let d = 0; d < shape.length; d++) src += index[d] * stride[d];
    if (src >= data.length) throw new Error(`${file}: tensor of shape [${shape}] reads past its storage ${ref.key} (${data.length} values)`);
    out[i] = data[src];
    for (let d = shape.length - 1; d >= 0; d--) {
      if (++index[d] < shape[d]) break;
      index[d] = 0;
    }
  }
  return { shape, data: out };
}

function unpickle(bytes: Uint8Array, file: string, storage: (r: StorageRef) => Float32Array): unknown {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const stack: unknown[] = [];
  const memo = new Map<number, unknown>();
  let p = 0;
  const fail = (msg: string): never => {
    throw new Error(`${file}: ${msg} (data.pkl offset ${p})`);
  };
  const need = (n: number) => {
    if (p + n > bytes.length) fail("truncated pickle");
  };
  const u8 = () => (need(1), bytes[p++]);
  const u16 = () => (need(2), (p += 2), view.getUint16(p - 2, true));
  const u32 = () => (need(4), (p += 4), view.getUint32(p - 4, true));
  const i32 = () => (need(4), (p += 4), view.getInt32(p - 4, true));
  const text = (n: number) => (need(n), (p += n), new TextDecoder().decode(bytes.subarray(p - n, p)));
  const line = () => {
    const end = bytes.indexOf(0x0a, p);
    if (end < 0) fail("truncated pickle");
    const s = new TextDecoder().decode(bytes.subarray(p, end));
    p = end + 1;
    return s;
  };
  const pop = () => (stack.length ? stack.pop() : fail("pickle stack underflow"));
  const listOnTop = (): unknown[] => {
    const top = stack[stack.length - 1];
    return Array.isArray(top) ? top : fail("pickle APPEND on something that is not a list");
  };
  const popMark = () => {
    const i = stack.lastIndexOf(MARK);
    if (i < 0) fail("pickle MARK missing");
    return stack.splice(i).slice(1);
  };
  const allowed = new Set([
    "collections.OrderedDict",
    "torch._utils._rebuild_tensor_v2",
    "torch._utils._rebuild_parameter",
    ...Object.keys(STORAGE_TYPES).map((t) => `torch.${t}`),
  ]);
  const global = (name: string) => (allowed.has(name) ? new Global(name) : fail(`refusing pickle global "${name}": not a tensor, storage or dict`));
  const call = (fn: unknown, args: unknown[]): unknown => {
    if (!(fn instanceof Global)) return fail("pickle calls something that is not a known global");
    if (fn.name === "collections.OrderedDict") return new Map();
    if (fn.name === "torch._utils._rebuild_tensor_v2") return rebuildTensor(file, args, storage);
    if (fn.name === "torch._utils._rebuild_parameter") return args[0];
    return fail(`pickle calls "${fn.name}"`);
  };
  for (;;) {
    const op = u8();
    switch (op) {
      case 0x80: u8(); break; // PROTO
      case 0x95: need(8); p += 8; break; // FRAME
      case 0x2e: return pop(); // STOP
      case 0x7d: stack.push(new Map()); break; // EMPTY_DICT
      case 0x5d: stack.push([]); break; // EMPTY_LIST
      case 0x29: stack.push([]); break; // EMPTY_TUPLE
      case 0x28: stack.push(MARK); break; // MARK
      case 0x71: memo.set(u8(), stack[stack.length - 1]); break; // BINPUT
      case 0x72: memo.set(u32(), stack[stack.length - 1]); break; // LONG_BINPUT
      case 0x94: memo.set(memo.size, stack[stack.length - 1]); break; // MEMOIZE
      case 0x68: stack.push(memo.has(bytes[p]) ? memo.get(u8()) : fail("pickle BINGET of an unknown memo")); break;
      case 0x6a: { const k = u32(); stack.push(memo.has(k) ? memo.get(k) : fail("pickle LONG_BINGET of an unknown memo")); break; }
      case 0x58: stack.push(text(u32())); break; // BINUNICODE
      case 0x8c: stack.push(text(u8())); break; // SHORT_BINUNICODE
      case 0x55: stack.push(text(u8())); break; // SHORT_BINSTRING
      case 0x54: stack.push(text(u32())); break; // BINSTRING
      case 0x43: { const n = u8(); need(n); stack.push(bytes.slice(p, (p += n))); break; } // SHORT_BINBYTES
      case 0x42: { const n = u32(); need(n); stack.push(bytes.slice(p, (p += n))); break; } // BINBYTES
      case 0x4a: stack.push(i32()); break; // BININT
      case 0x4b: stack.push(u8()); break; // BININT1
      case 0x4d: stack.push(u16()); break; // BININT2
      case 0x8a: { // LONG1: little-endian two's complement
        const n = u8();
        need(n);
        let v = 0;
        for (let i = n - 1; i >= 0; i--) v = v * 256 + bytes[p + i];
        if (n && bytes[p + n - 1] & 0x80) v -= 2 ** (8 * n);
        p += n;
        stack.push(v);
        break;
      }
      case 0x47: need(8); stack.push(view.getFloat64(p, false)); p += 8; break; // BINFLOAT
      case 0x88: stack.push(true); break;
      case 0x89: stack.push(false); break;
      case 0x4e: stack.push(null); break;
      case 0x74: stack.push(popMark()); break; // TUPLE
      case 0x85: stack.push([pop()]); break;
      case 0x86: { const b = pop(); stack.push([pop(), b]); break; }
      case 0x87: { const c = pop(), b = pop(); stack.push([pop(), b, c]); break; }
      case 0x63: { const mod = line(); stack.push(global(`${mod}.${line()}`)); break; } // GLOBAL
      case 0x93: { const name = pop(), mod = pop(); stack.push(global(`${mod}.${name}`)); break; } // STACK_GLOBAL
      case 0x52: // REDUCE
      case 0x81: { // NEWOBJ
        const args = pop();
        if (!Array.isArray(args)) fail("pickle call arguments are not a tuple");
        stack.push(call(pop(), args as unknown[]));
        break;
      }
      case 0x62: pop(); break; // BUILD: object state (OrderedDict._metadata); not needed
      case 0x51: { // BINPERSID: ('storage', StorageType, key, location, numel)
        const pid = pop() as unknown[];
        const type = pid?.[1];
        if (!Array.isArray(pid) || pid[0] !== "storage" || !(type instanceof Global)) fail("unsupported persistent id");
        stack.push({ kind: "storage", type: (type as Global).name.replace(/^torch\./, ""), key: String(pid[2]) } satisfies StorageRef);
        break;
      }
      case 0x73: { const v = pop(), k = pop(); setItem(stack[stack.length - 1], k, v, fail); break; } // SETITEM
      case 0x75: { const items = popMark(); for (let i = 0; i < items.length; i += 2) setItem(stack[stack.length - 1], items[i], items[i + 1], fail); break; }
      case 0x61: { const v = pop(); listOnTop().push(v); break; } // APPEND
      case 0x65: { const items = popMark(); listOnTop().push(...items); break; } // APPENDS
      default:
        fail(`unsupported pickle opcode 0x${op.toString(16)}`);
    }
  }
}

function setItem(target: unknown, key: unknown, value: unknown, fail: (m: string) => never): void {
  if (!(target instanceof Map)) fail("pickle SETITEM on something that is not a dict");
  (target as Map<unknown, unknown>).set(key, value);
}
