// Mutations of real files for fuzzing the weights parsers, seeded so a failure
// can be replayed: byte flips, truncation, chunk deletion and duplication, and
// edits aimed at the first bytes, where headers and sizes live. The targets are
// small files from each format's own tools (see tools/make_fixtures.py).
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { buildDbm } from "../src/graph/dbm.js";
import { bindWeights } from "../src/weights/bind.js";
import { readWeightsFile } from "../src/weights/load.js";
import { readPth } from "../tools/convert-weights/pth.js";
import { readCaffe, readOnnx, schema } from "../tools/convert-weights/protobuf.js";
import { fixtureBytes, ROOT } from "./helpers.js";
export interface Mutation {
  readonly label: string;
  readonly bytes: Uint8Array;
}

function rng(seed: number) {
  let s = seed >>> 0;
  return (n: number) => {
    s = (Math.imul(s ^ (s >>> 15), 0x2c1b3c6d) + 0x9e3779b9) >>> 0;
    s ^= s >>> 13;
    return s % Math.max(1, n);
  };
}

export function mutate(original: Uint8Array, seed: number): Mutation {
  const r = rng(seed);
  const kind = r(5);
  const bytes = new Uint8Array(original);
  if (kind === 0) {
    const flips = 1 + r(8);
    for (let i = 0; i < flips; i++) bytes[r(bytes.length)] = r(256);
    return { label: `seed ${seed}: ${flips} random bytes`, bytes };
  }
  if (kind === 1) {
    const head = Math.min(bytes.length, 4096);
    const flips = 1 + r(4);
    for (let i = 0; i < flips; i++) bytes[r(head)] = [0, 0xff, 0x7f, 0x80, r(256)][r(5)];
    return { label: `seed ${seed}: ${flips} bytes in the first 4 KiB`, bytes };
  }
  if (kind === 2) {
    const length = r(original.length);
    return { label: `seed ${seed}: truncated to ${length} bytes`, bytes: original.slice(0, length) };
  }
  const at = r(original.length);
  const size = 1 + r(64);
  if (kind === 3) return { label: `seed ${seed}: ${size} bytes deleted at ${at}`, bytes: new Uint8Array([...original.subarray(0, at), ...original.subarray(at + size)]) };
  return { label: `seed ${seed}: ${size} bytes repeated at ${at}`, bytes: new Uint8Array([...original.subarray(0, at + size), ...original.subarray(at)]) };
}

/** Runs `parse` on `count` mutations; returns the cases that broke the rules (ideally none). */
export function fuzz(original: Uint8Array, count: number, firstSeed: number, file: string, parse: (bytes: Uint8Array) => unknown): { loaded: number; rejected: number; broken: string[] } {
  let loaded = 0;
  let rejected = 0;
  const broken: string[] = [];
  for (let i = 0; i < count; i++) {
    const m = mutate(original, firstSeed + i);
    try {
      parse(m.bytes);
      loaded++;
    } catch (e) {
      // A clear error is ours: an Error naming the file. A RangeError or TypeError
      // from the runtime means a size or offset was used before it was checked.
      const ok = e instanceof Error && !(e instanceof RangeError) && !(e instanceof TypeError) && e.message.includes(file);
      if (ok) rejected++;
      else broken.push(`${m.label}: ${(e as Error)?.constructor?.name}: ${(e as Error)?.message}`);
    }
  }
  return { loaded, rejected, broken };
}

/**
 * A DBM's tensors as a .caffemodel, written with Caffe's schema: one
 * Convolution layer per conv, named as Caffe's VGG16 names them. With `bgr`,
 * conv1_1 takes its input in BGR order, as Caffe networks do.
 */
export function dbmAsCaffe(tensors: ReadonlyMap<string, { shape: readonly number[]; data: Float32Array }>, bgr = false): Uint8Array {
  const Net = schema.lookupType("blurmap.CaffeNet");
  const layers = new Map<string, { name: string; type: string; blobs: { shape: { dim: number[] }; data: number[] }[] }>();
  for (const [name, t] of tensors) {
    const [, layer, kind] = /^(?:features\.)?(conv\d_\d|score)(?:\.conv)?\.(weight|bias)$/.exec(name)!;
    const data = bgr && layer === "conv1_1" && kind === "weight" ? reverseInputChannels(t) : [...t.data];
    const entry = layers.get(layer) ?? { name: layer, type: "Convolution", blobs: [] };
    entry.blobs[kind === "weight" ? 0 : 1] = { shape: { dim: [...t.shape] }, data };
    layers.set(layer, entry);
  }
  return Net.encode(Net.fromObject({ name: "DBM", layer: [...layers.values()] })).finish();
}

/** OIHW weights with I reversed, written independently of the converter's own. */
function reverseInputChannels(t: { shape: readonly number[]; data: Float32Array }): number[] {
  const [o, i, kh, kw] = t.shape;
  const out: number[] = [];
  for (let a = 0; a < o; a++) for (let c = 0; c < i; c++) for (let k = 0; k < kh * kw; k++) out.push(t.data[(a * i + (i - 1 - c)) * kh * kw + k]);
  return out;
}

const microCaffe = () => dbmAsCaffe(readWeightsFile(fixtureBytes("fuzz-dbm-micro.safetensors"), "micro").tensors);

export const FUZZ_TARGETS: [string, () => Uint8Array, (bytes: Uint8Array, file: string) => unknown, number][] = [
  ["safetensors", () => fixtureBytes("fuzz-dbm-micro.safetensors"), (b, f) => {
    const file = readWeightsFile(b, f);
    return bindWeights(buildDbm(32, 32, file.info.architecture as { width: number }), new Map([["dbm", file]]));
  }, 1000],
  ["pytorch", () => fixtureBytes("fuzz-dbm-micro.pth"), readPth, 1000],
  ["onnx", () => fixtureBytes("fuzz-dbm-micro.onnx"), readOnnx, 1000],
  ["caffe", microCaffe, readCaffe, 1000],
  ["caffe (BVLC LeNet)", () => new Uint8Array(readFileSync(join(ROOT, "..", "shared", "fixtures", "caffe-lenet", "lenet_iter_10000.caffemodel"))), readCaffe, 100],
];
