// The weights loader: real fixture files, corrupted one way at a time; each
// must fail with a message that names the file, the tensor and the problem.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { buildDbm } from "../src/graph/dbm.js";
import { bindWeights } from "../src/weights/bind.js";
import { bfloat16ToFloat, exactInHalf, floatToHalf, halfToFloat } from "../src/weights/fp16.js";
import { readWeightsFile } from "../src/weights/load.js";
import { parseSafetensors, writeSafetensors } from "../src/weights/safetensors.js";
import { fixtureBytes } from "./helpers.js";

const ORIGINAL = fixtureBytes("dbm-tiny.safetensors");
const GRAPH = buildDbm(37, 53, { width: 0.125 });

function headerOf(bytes: Uint8Array): { json: Record<string, any>; data: Uint8Array } {
  const n = new DataView(bytes.buffer, bytes.byteOffset).getUint32(0, true);
  return { json: JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n))), data: bytes.subarray(8 + n) };
}

function withHeader(bytes: Uint8Array, edit: (h: Record<string, any>) => void): Uint8Array {
  const { json, data } = headerOf(bytes);
  edit(json);
  const raw = new TextEncoder().encode(JSON.stringify(json));
  const out = new Uint8Array(8 + raw.length + data.length);
  new DataView(out.buffer).setUint32(0, raw.length, true);
  out.set(raw, 8);
  out.set(data, 8 + raw.length);
  return out;
}

/** Loads and binds as the engine does; returns the error message, or "" on success. */
function loadError(bytes: Uint8Array): string {
  try {
    const file = readWeightsFile(bytes, "dbm-test.safetensors");
    bindWeights(GRAPH, new Map([["dbm", file]]));
    return "";
  } catch (e) {
    return (e as Error).message;
  }
}

test("the untouched fixture loads and binds", () => {
  assert.is(loadError(ORIGINAL), "");
});

test("wrong tensor name: missing and unexpected tensors are named", () => {
  const renamed = withHeader(ORIGINAL, (h) => {
    h["features.conv1_1.conv.weights"] = h["features.conv1_1.conv.weight"];
    delete h["features.conv1_1.conv.weight"];
  });
  assert.match(loadError(renamed), 'dbm-test.safetensors: missing tensor "features.conv1_1.conv.weight" (shape [8, 3, 3, 3]) needed by layer "conv1_1"');
  const extra = withHeader(ORIGINAL, (h) => {
    h["features.conv9_9.conv.weight"] = { ...h["score.bias"] };
  });
  assert.match(loadError(extra), /overlap|unexpected tensor "features.conv9_9.conv.weight"/);
});

test("wrong shape: tensor, its shape and the expected shape are named", () => {
  const bad = withHeader(ORIGINAL, (h) => {
    h["features.conv1_2.conv.weight"].shape = [8, 8, 9, 1];
  });
  assert.match(loadError(bad), 'tensor "features.conv1_2.conv.weight" has shape [8, 8, 9, 1], layer "conv1_2" expects [8, 8, 3, 3]');
});

test("wrong dtype: unsupported dtype and a dtype that does not fit the bytes", () => {
  const int = withHeader(ORIGINAL, (h) => {
    h["score.weight"].dtype = "I64";
  });
  assert.match(loadError(int), 'tensor "score.weight": dtype "I64" is not supported (expected F32, F16 or BF16)');
  const f32 = withHeader(ORIGINAL, (h) => {
    h["score.weight"].dtype = "F32";
  });
  assert.match(loadError(f32), 'tensor "score.weight": holds 128 bytes, but F32 shape [1, 64, 1, 1] needs 256');
});

test("truncated file: the first tensor past the end is named", () => {
  const cut = ORIGINAL.subarray(0, ORIGINAL.length - 1000);
  assert.match(loadError(cut), /tensor "[^"]+": data_offsets \[\d+, \d+\] point outside the \d+ data bytes \(file truncated or header corrupt\)/);
  assert.match(loadError(ORIGINAL.subarray(0, 5)), "truncated: 5 bytes");
  assert.match(loadError(ORIGINAL.subarray(0, 100)), /truncated: the header claims \d+ bytes but only 92 follow/);
});

test("header lies about offsets: outside the file, overlapping, reversed", () => {
  const { data } = headerOf(ORIGINAL);
  const outside = withHeader(ORIGINAL, (h) => {
    h["score.bias"].data_offsets = [data.length, data.length + 2];
  });
  assert.match(loadError(outside), `tensor "score.bias": data_offsets [${data.length}, ${data.length + 2}] point outside`);
  const overlap = withHeader(ORIGINAL, (h) => {
    h["score.bias"].data_offsets = [h["score.weight"].data_offsets[0], h["score.weight"].data_offsets[0] + 2];
  });
  assert.match(loadError(overlap), /tensors "score\.(weight|bias)" and "score\.(weight|bias)" overlap/);
  const reversed = withHeader(ORIGINAL, (h) => {
    h["score.bias"].data_offsets = [10, 8];
  });
  assert.match(loadError(reversed), 'tensor "score.bias": data_offsets [10, 8] point outside');
  const huge = new Uint8Array(ORIGINAL);
  new DataView(huge.buffer).setUint32(4, 0x7fff, true);
  assert.match(loadError(huge), "over the 104857600-byte limit");
  const notJson = withHeader(ORIGINAL, () => {});
  notJson[8] = 0x7b + 1;
  assert.match(loadError(notJson), "header is not valid UTF-8 JSON");
});

test("NaN or infinity in a weight is reported with the tensor and element", () => {
  const file = parseSafetensors(ORIGINAL);
  const tensors = [...file.tensors].map(([name, t]) => ({ name, shape: t.shape, data: name === "features.conv2_1.conv.bias" ? t.data.map((v, i) => (i === 3 ? NaN : v)) : t.data }));
  assert.match(loadError(writeSafetensors(tensors, file.metadata, "F32")), 'tensor "features.conv2_1.conv.bias" holds NaN at element 3');
});

test("metadata: wrong architecture version, wrong model, not a blurmap file", () => {
  const meta = (edit: (m: Record<string, string>) => void) =>
    withHeader(ORIGINAL, (h) => {
      edit(h.__metadata__);
    });
  assert.match(loadError(meta((m) => (m.architecture_version = "2"))), 'architecture version "2" of "dbm" is not the version 1 this blurmap runs');
  assert.match(loadError(meta((m) => (m.model = "resnet"))), '__metadata__.model "resnet" is not one of dbm, purohit-patch, purohit-unet');
  assert.match(loadError(meta((m) => delete m.format)), "not a blurmap weights file");
  assert.match(loadError(meta((m) => (m.output = "1 = sharp"))), 'blurmap expects maps where "1 = blurred"');
  const wrongWidth = meta((m) => (m.architecture = '{"width": 0.25}'));
  const file = readWeightsFile(wrongWidth, "w.safetensors");
  assert.throws(() => bindWeights(buildDbm(37, 53, file.info.architecture as { width: number }), new Map([["dbm", file]])), /has shape \[8, 3, 3, 3\], layer "conv1_1" expects \[16, 3, 3, 3\]/);
});

test("F32, F16 and BF16 decode to the same values; writer round-trips", () => {
  const values = new Float32Array([0, -0, 1, -2.5, 65504, 6.103515625e-5, 5.960464477539063e-8, 0.333251953125]);
  for (const dtype of ["F32", "F16"] as const) {
    const bytes = writeSafetensors([{ name: "x", shape: [2, 4], data: values }], { k: "v" }, dtype);
    const back = parseSafetensors(bytes).tensors.get("x")!;
    assert.equal([...back.data], [...values], dtype);
    assert.is(back.dtype, dtype);
  }
  assert.is(bfloat16ToFloat(0x3fc0), 1.5);
  assert.is(bfloat16ToFloat(0xc000), -2);
});

test("fp16 conversion: rounding to nearest even, subnormals, overflow, NaN", () => {
  assert.is(floatToHalf(1), 0x3c00);
  assert.is(floatToHalf(1 + 2 ** -11), 0x3c00, "tie rounds to even (down)");
  assert.is(floatToHalf(1 + 3 * 2 ** -11), 0x3c02, "tie rounds to even (up)");
  assert.is(floatToHalf(2 ** -24), 0x0001, "smallest subnormal");
  assert.is(floatToHalf(70000), 0x7c00, "overflow to +inf");
  assert.is(floatToHalf(-Infinity), 0xfc00);
  assert.ok(Number.isNaN(halfToFloat(floatToHalf(NaN))));
  for (let h = 0; h < 0x7c00; h += 7) assert.is(floatToHalf(halfToFloat(h)), h, `round trip of 0x${h.toString(16)}`);
});

test("exactInHalf: true for every finite half, and agrees with a round trip on random floats and on each half's float32 neighbours", () => {
  const halves: number[] = [];
  for (let h = 0; h < 0x10000; h++) if (Number.isFinite(halfToFloat(h))) halves.push(halfToFloat(h));
  assert.ok(exactInHalf(Float32Array.from(halves)), "every finite half value");
  const one = new Float32Array(1);
  const bits = new Uint32Array(one.buffer);
  const agree = () => !Number.isFinite(one[0]) || exactInHalf(one) === (halfToFloat(floatToHalf(one[0])) === one[0]);
  let rng = 12345;
  for (let i = 0; i < 200000; i++) {
    rng = (Math.imul(rng, 1103515245) + 12345) >>> 0;
    bits[0] = rng;
    assert.ok(agree(), `0x${rng.toString(16)}`);
  }
  for (const v of halves)
    for (const step of [1, -1]) {
      one[0] = v;
      bits[0] += step;
      assert.ok(agree(), `neighbour of ${v}: 0x${bits[0].toString(16)}`);
    }
  assert.not.ok(exactInHalf(Float32Array.of(1, 2, 1 / 3)), "1/3 is not a half");
  assert.not.ok(exactInHalf(Float32Array.of(70000)), "past half's range");
  assert.not.ok(exactInHalf(Float32Array.of(2 ** -25)), "below half's smallest subnormal");
});

test.run();
