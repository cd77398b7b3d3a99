// The CPU path against PyTorch: every op case and every network, layer by
// layer, from the fixtures written by tools/make_fixtures.py; convolutions both
// with the reference loops and with the WebAssembly SIMD kernel.
import { test } from "uvu";
import { runCpu } from "../src/graph/cpu-executor.js";
import { buildDbm } from "../src/graph/dbm.js";
import { buildPatchNet, buildPurohit, buildUNet } from "../src/graph/purohit.js";
import { kernelFor, type OpName } from "../src/kernels/index.js";
import type { CpuConv, Params } from "../src/kernels/kernel.js";
import { loadModel } from "../src/index.js";
import { useCpuThreads } from "../src/node/cpu-threads.js";
import { bindWeights } from "../src/weights/bind.js";
import * as assert from "uvu/assert";
import { asTensor, assertClose, fixture, fixtureBytes, weightsFixture } from "./helpers.js";
import { randomNormal } from "./random.js";

const PYTORCH_TOLERANCE = { abs: 1e-4, rel: 0 }; // issue #2: max abs error ≤ 1e-4 (fp32)

const ops = fixture("ops.safetensors");
const cases: { name: string; op: OpName; attrs: unknown; inputs: number; params: string[] }[] = JSON.parse(ops.metadata.cases);

const CONVS: readonly CpuConv[] = ["reference", "simd"];

for (const c of cases)
  for (const conv of c.op === "conv2d" || c.op === "conv_transpose2d" ? CONVS : ["reference" as const]) {
    test(`cpu (${conv}) == pytorch: op ${c.name}`, () => {
      const inputs = Array.from({ length: c.inputs }, (_, i) => asTensor(ops, `${c.name}.input${i}`));
      const params: Params = Object.fromEntries(c.params.map((p) => [p, ops.tensors.get(`${c.name}.${p}`)!]));
      const out = kernelFor(c.op).cpu(inputs, c.attrs, params, { conv });
      const err = assertClose(c.name, out, asTensor(ops, `${c.name}.output`), PYTORCH_TOLERANCE);
      console.log(`    cpu (${conv}) vs pytorch ${c.name}: max abs err ${err.toExponential(2)}`);
    });
  }

function networkCase(label: string, io: string, graph: ReturnType<typeof buildDbm>, files: ReturnType<typeof weightsFixture>[], prefix = "") {
  for (const conv of CONVS) networkCaseWith(conv, label, io, graph, files, prefix);
}

function networkCaseWith(conv: CpuConv, label: string, io: string, graph: ReturnType<typeof buildDbm>, files: ReturnType<typeof weightsFixture>[], prefix: string) {
  test(`cpu (${conv}) == pytorch: ${label}, every layer`, () => {
    const ref = fixture(io);
    const params = bindWeights(graph, new Map(files.map((f) => [f.info.model, f])));
    const taps = [...ref.tensors.keys()].filter((k) => k !== "input");
    const out = runCpu(graph, params, [asTensor(ref, "input")], taps.map((t) => prefix + t).filter((t) => graph.shapes.has(t)), { conv });
    let worst = 0;
    for (const t of taps) {
      const actual = out.get(prefix + t) ?? out.get(t);
      if (!actual) throw new Error(`${label}: graph has no tensor for PyTorch tap "${t}"`);
      worst = Math.max(worst, assertClose(`${label} ${t}`, actual, asTensor(ref, t), PYTORCH_TOLERANCE));
    }
    console.log(`    cpu (${conv}) vs pytorch ${label}: ${taps.length} layers, max abs err ${worst.toExponential(2)}`);
  });
}

const dbm = weightsFixture("dbm-tiny.safetensors");
const patch = weightsFixture("purohit-patch.safetensors");
const unet = weightsFixture("purohit-unet.safetensors");
networkCase("DBM (width 1/8) 37×53", "dbm-tiny.io.safetensors", buildDbm(37, 53, { width: 0.125 }), [dbm]);
networkCase("Purohit patch net, 3 patches", "purohit-patch.io.safetensors", buildPatchNet(3, { filters: [32, 64, 128] }), [patch]);
networkCase("Purohit U-Net 64 filters, 32×32", "purohit-unet.io.safetensors", buildUNet({ filters: 64, depth: 5, size: 32 }), [unet]);
networkCase("Purohit pipeline b1·b2, 37×53", "purohit.io.safetensors",
  buildPurohit(37, 53, { filters: [32, 64, 128] }, { filters: 64, depth: 5, size: 32 }, { patchStride: 15 }), [patch, unet]);

for (const conv of CONVS)
  test(`worker threads: the CPU path (${conv}) on 2 threads is bit-identical to 1 thread (DBM width 1/8, 120×100)`, async () => {
    const model = await loadModel(fixtureBytes("dbm-tiny.safetensors"), { backend: "cpu", cpuConv: conv });
    assert.is(model.device, `cpu (${conv})`);
    const image = { width: 100, height: 120, data: Uint8ClampedArray.from(randomNormal(100 * 120 * 4, 21), (v) => 128 + 50 * v) };
    const one = model.run(image).map.data;
    const pool = useCpuThreads(2);
    const started = Date.now();
    while (Date.now() - started < 10_000 && pool.ready() < 1) await new Promise((r) => setTimeout(r, 50));
    assert.is(pool.ready(), 1, "the worker started");
    const two = model.run(image).map.data;
    const split = pool.splitLayers();
    await pool.close();
    assert.ok(split >= 2, `only ${split} layers were split across threads`);
    assert.ok(one.every((v, i) => Object.is(v, two[i])), "maps differ between 1 and 2 threads");
  });

test.run();
