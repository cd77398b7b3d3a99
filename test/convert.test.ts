// tools/convert-weights on real files from each format's own writer (torch.save,
// torch.onnx.export, BVLC Caffe), checked against known values.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { zipSync } from "fflate";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { convert, type SourceTensor } from "../tools/convert-weights/convert.js";
import { readSource } from "../tools/convert-weights/main.js";
import { readPth } from "../tools/convert-weights/pth.js";
import { runCpu } from "../src/graph/cpu-executor.js";
import { buildDbm } from "../src/graph/dbm.js";
import { bindWeights } from "../src/weights/bind.js";
import { readWeightsFile } from "../src/weights/load.js";
import { writeSafetensors } from "../src/weights/safetensors.js";
import { dbmAsCaffe } from "./fuzz-cases.js";
import { asTensor, assertClose, fixture, fixtureBytes, ROOT } from "./helpers.js";

const reference = fixture("dbm-tiny.safetensors");
const METADATA = { ...reference.metadata };
const LENET = join(ROOT, "..", "shared", "fixtures", "caffe-lenet", "lenet_iter_10000.caffemodel");

function assertSameTensors(got: { name: string; data: Float32Array; shape: readonly number[] }[], label: string) {
  assert.is(got.length, reference.tensors.size, `${label}: tensor count`);
  for (const t of got) {
    const want = reference.tensors.get(t.name);
    assert.ok(want, `${label}: unexpected "${t.name}"`);
    assert.equal([...t.shape], [...want!.shape], `${label}: shape of ${t.name}`);
    assert.equal([...t.data], [...want!.data], `${label}: values of ${t.name}`);
  }
}

test("safetensors with another naming: renamed back, values unchanged", () => {
  const foreign = new Map<string, SourceTensor>([...reference.tensors].map(([k, v]) => [k.replace(/^features\.(conv\d_\d)\.conv\./, "vgg.$1."), v]));
  assert.ok(foreign.has("vgg.conv1_1.weight"));
  const result = convert(foreign, { model: "dbm", metadata: METADATA, renames: [["^vgg\\.(conv\\d_\\d)\\.", "features.$1.conv."]] });
  assertSameTensors(result.tensors, "renamed");
  assert.ok(result.table.some((r) => r.from === "vgg.conv1_1.weight" && r.name === "features.conv1_1.conv.weight"));
});

test("ONNX (torch.onnx.export): initializers become the same tensors", () => {
  const source = readSource(fixtureBytes("dbm-tiny.onnx"), "dbm-tiny.onnx");
  assert.is(source.format, "onnx");
  assertSameTensors(convert(source.tensors, { model: "dbm", metadata: METADATA }).tensors, "onnx");
});

test("PyTorch .pth checkpoint with BatchNorm: folded, and the engine matches PyTorch (abs 1e-4)", () => {
  const source = readSource(fixtureBytes("dbm-tiny-bn.pth"), "dbm-tiny-bn.pth");
  assert.is(source.format, "pytorch");
  assert.ok(source.tensors.has("features.conv1_1.bn.running_var"), "checkpoint's 'model.' container stripped");
  const result = convert(source.tensors, { model: "dbm", metadata: METADATA });
  const convRows = result.table.filter((r) => !r.name.startsWith("score."));
  assert.is(convRows.length, 26);
  assert.ok(convRows.every((r) => r.action.startsWith("BatchNorm")), "every VGG conv had its BatchNorm folded");
  const bytes = writeSafetensors(result.tensors, result.metadata, "F32");
  const file = readWeightsFile(bytes, "converted");
  const io = fixture("dbm-tiny-bn.io.safetensors");
  const graph = buildDbm(37, 53, { width: 0.125 });
  const out = runCpu(graph, bindWeights(graph, new Map([["dbm", file]])), [asTensor(io, "input")]).get("output")!;
  const err = assertClose("converted .pth vs pytorch", out, asTensor(io, "output"), { abs: 1e-4, rel: 0 });
  console.log(`    convert .pth with BatchNorm: engine vs pytorch max abs err ${err.toExponential(2)}`);
});

test("Caffe: BVLC's LeNet model reads with every blob's shape", () => {
  assert.ok(existsSync(LENET), `${LENET} is missing`);
  const source = readSource(new Uint8Array(readFileSync(LENET)), LENET);
  const shapes = Object.fromEntries([...source.tensors].map(([k, v]) => [k, v.shape.join("x")]));
  assert.equal(shapes, {
    "conv1.weight": "20x1x5x5", "conv1.bias": "20", "conv2.weight": "50x20x5x5", "conv2.bias": "50",
    "ip1.weight": "500x800", "ip1.bias": "500", "ip2.weight": "10x500", "ip2.bias": "10",
  });
  const w = source.tensors.get("ip2.weight")!.data;
  assert.ok(w.some((v) => v !== 0) && w.every(Number.isFinite), "real trained values");
});

test("Caffe: a DBM written with Caffe's schema (V2 layers, BGR input) converts to the same network", () => {
  const source = readSource(dbmAsCaffe(reference.tensors, true), "dbm.caffemodel");
  const result = convert(source.tensors, { model: "dbm", metadata: METADATA, bgr: true, renames: [["^(conv\\d_\\d)\\.", "features.$1.conv."]] });
  assertSameTensors(result.tensors, "caffe");
});

test("errors: unused and missing tensors, bad shapes, hostile pickles", () => {
  const extra = new Map(reference.tensors);
  extra.set("head.weight", { shape: [1], data: new Float32Array(1) } as never);
  assert.throws(() => convert(extra, { model: "dbm", metadata: METADATA }), /source tensors not used by the dbm graph: head\.weight/);
  const missing = new Map(reference.tensors);
  missing.delete("score.bias");
  assert.throws(() => convert(missing, { model: "dbm", metadata: METADATA }), /no source tensor for "score\.bias"/);
  assert.throws(() => convert(reference.tensors, { model: "dbm", metadata: { ...METADATA, architecture: '{"width": 0.25}' } }), /has shape \[8, 3, 3, 3\], layer "conv1_1" expects \[16, 3, 3, 3\]/);
  // A checkpoint whose pickle calls os.system("echo pwned"): refused by name, nothing runs.
  const pickle = new Uint8Array([0x80, 2, ...new TextEncoder().encode("cos\nsystem\nX"), 10, 0, 0, 0, ...new TextEncoder().encode("echo pwned"), 0x85, 0x52, 0x2e]);
  const hostile = zipSync({ "evil/data.pkl": pickle });
  assert.throws(() => readPth(hostile, "evil.pth"), /evil\.pth: refusing pickle global "os\.system"/);
  // A string that claims 10 bytes and has 3.
  const truncated = zipSync({ "cut/data.pkl": new Uint8Array([0x80, 2, 0x58, 10, 0, 0, 0, 0x61, 0x62, 0x63]) });
  assert.throws(() => readPth(truncated, "cut.pth"), /cut\.pth: truncated pickle/);
  assert.throws(() => readSource(new Uint8Array([1, 2, 3]), "x.bin"), /unknown format/);
  assert.throws(() => readSource(new Uint8Array([0x50, 0x4b, 3, 4, 0, 0]), "x.pth"), /not a PyTorch zip checkpoint/);
});

test.run();
