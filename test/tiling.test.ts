// Spatial tiling (graph/tiling.ts): the tile plan keeps every cell's context
// inside its tile, the graph cut is where the models say, and a tiled run gives
// the one-pass map bit for bit on the CPU (the WebGL side is in webgl-parity).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { runCpu, type BoundParams } from "../src/graph/cpu-executor.js";
import { buildDbm, DBM_TILING } from "../src/graph/dbm.js";
import { GraphBuilder, type Graph } from "../src/graph/ir.js";
import { buildPurohit, purohitTiling } from "../src/graph/purohit.js";
import { chooseTileSide, headOf, minimumTileSize, planSpans, runTiled, trunkOf, type TilingRule } from "../src/graph/tiling.js";
import type { Tensor } from "../src/kernels/kernel.js";
import { loadModel } from "../src/index.js";
import { BlurMapModel } from "../src/model.js";
import { readWeightsFile } from "../src/weights/load.js";
import { fixtureBytes, patternImage, rejects } from "./helpers.js";
import { randomNormal } from "./random.js";

const DBM = fixtureBytes("dbm-tiny.safetensors");
const PATCH = fixtureBytes("purohit-patch.safetensors");
const UNET = fixtureBytes("purohit-unet.safetensors");

test("planSpans: tiles cover every cell once, in order, each kept cell with its whole context, tiles on the grid and at most tileSize long", () => {
  const rules: TilingRule[] = [DBM_TILING, purohitTiling(15), purohitTiling(10), purohitTiling(7)];
  let plans = 0;
  for (const rule of rules)
    for (const length of [31, 100, 211, 212, 300, 333, 1000, 4097])
      for (const tileSize of [minimumTileSize(rule), minimumTileSize(rule) + 13, 256, 1024]) {
        const cells = rule.cell === 1 ? length : Math.floor(length / rule.cell);
        const spans = planSpans(length, cells, tileSize, rule);
        const label = `rule ${rule.cut}/${rule.align}, length ${length}, tile ${tileSize}`;
        if (length <= tileSize) assert.equal(spans, [{ start: 0, end: length, first: 0, last: cells }], label);
        assert.is(spans[0].first, 0, label);
        assert.is(spans[spans.length - 1].last, cells, label);
        assert.is(spans[spans.length - 1].end, length, label);
        spans.forEach((s, i) => {
          if (i > 0) assert.is(s.first, spans[i - 1].last, `${label}: tile ${i} starts where the last one stopped`);
          assert.ok(s.last > s.first && s.end - s.start <= tileSize && s.start % rule.align === 0, `${label}: tile ${i} ${JSON.stringify(s)}`);
          if (spans.length > 1) assert.is(s.end - s.start, spans[0].end - spans[0].start, `${label}: all tiles share one size`);
          assert.ok(s.start === 0 || s.first * rule.cell - rule.before >= s.start, `${label}: tile ${i} lacks context before`);
          assert.ok(s.end === length || s.last * rule.cell - 1 + rule.after < s.end, `${label}: tile ${i} lacks context after`);
        });
        plans++;
      }
  assert.is(plans, 4 * 8 * 4);
  assert.throws(() => planSpans(1000, 62, 200, DBM_TILING), /a 200-pixel tile is too small for this model.*at least 227/);
});

test("chooseTileSide: one pass when the image fits; else tileSize, halved until a tile fits the device; 0 never tiles", () => {
  const under = (max: number) => (h: number, w: number) => h <= max && w <= max;
  assert.is(chooseTileSide(600, 800, 2048, DBM_TILING, under(Infinity)), 0);
  assert.is(chooseTileSide(600, 3000, 2048, DBM_TILING, under(Infinity)), 2048);
  assert.is(chooseTileSide(1500, 1500, 2048, DBM_TILING, under(1000)), 512, "1500 does not fit, 1024 does not, 512 does");
  assert.is(chooseTileSide(5000, 5000, 0, DBM_TILING, under(10)), 0);
  assert.is(chooseTileSide(5000, 5000, 2048, DBM_TILING, under(10)), 256, "stops halving above the 227-pixel minimum (the run then reports the limit)");
});

test("the cut: DBM's trunk ends at the score and its head only upsamples; Purohit's head takes b1 and the image", () => {
  const dbm = buildDbm(64, 48, { width: 0.125 });
  const trunk = trunkOf(dbm, "score");
  assert.equal(trunk.inputs, ["input"]);
  assert.is(trunk.nodes[trunk.nodes.length - 1].name, "score");
  assert.is(trunk.nodes.length, dbm.nodes.length - 2);
  assert.equal(headOf(dbm, "score").nodes.map((n) => n.name), ["upsample", "output"]);
  assert.equal(headOf(dbm, "score").inputs, ["score"]);
  const purohit = buildPurohit(60, 50, { filters: [4, 8] }, { filters: 4, depth: 3, size: 32 }, { patchStride: 10 });
  const head = headOf(purohit, "b1");
  assert.equal(head.inputs, ["b1", "input"]);
  assert.ok(head.nodes.every((n) => !n.name.startsWith("patch")), "no patch-net node after the cut");
  assert.ok(trunkOf(purohit, "b1").nodes.every((n) => !n.name.startsWith("unet")), "no U-Net node before the cut");
  // A graph that reads a trunk tensor after the cut cannot be cut there.
  const g = new GraphBuilder();
  const a = g.add("sigmoid", "a", [g.input("x", [1, 4, 4, 1])]);
  const b = g.add("sigmoid", "b", [a]);
  const bad = g.build(g.add("multiply", "c", [a, b]));
  assert.throws(() => headOf(bad, "b"), /"a" is read after the cut at "b"/);
});

const maxDiff = (a: Float32Array, b: Float32Array) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);

/** One pass and tiled on the CPU (SIMD convs), on the same random input: max |difference|. */
function tiledVsWhole(model: BlurMapModel, rule: TilingRule, height: number, width: number, tileSize: number, seed: number): number {
  const { graph, params } = model.graph(height, width);
  const input: Tensor = { shape: [1, height, width, 3], data: randomNormal(height * width * 3, seed) };
  const run = (g: Graph, inputs: readonly Tensor[]) => runCpu(g, params as BoundParams, inputs, [], { conv: "simd" }).get(g.output)!;
  return maxDiff(run(graph, [input]).data, runTiled(graph, (h, w) => model.graph(h, w).graph, rule, input, tileSize, run).data);
}

test("DBM tiled == DBM in one pass, bit for bit (3×3 and 2×2 tiles); with 16 px less context before each cell, they differ", () => {
  const model = new BlurMapModel([readWeightsFile(DBM, "dbm-tiny.safetensors")]);
  for (const [h, w, tile] of [[290, 333, 240], [260, 300, 227]]) {
    const d = tiledVsWhole(model, DBM_TILING, h, w, tile, h);
    console.log(`    dbm ${w}×${h} in ${tile}-pixel tiles: max abs diff ${d}`);
    assert.is(d, 0);
  }
  const short = tiledVsWhole(model, { ...DBM_TILING, before: DBM_TILING.before - 16 }, 290, 333, 240, 290);
  assert.ok(short > 1e-4, `too little context should change the map (diff ${short})`);
});

test("Purohit tiled == Purohit in one pass, bit for bit, for patch strides 7, 10 and 15; with 1 px less context after, they differ", () => {
  for (const stride of [7, 10, 15]) {
    const model = new BlurMapModel([readWeightsFile(PATCH, "patch"), readWeightsFile(UNET, "unet")], { patchStride: stride });
    const rule = purohitTiling(stride);
    for (const tile of [minimumTileSize(rule), 97]) {
      const d = tiledVsWhole(model, rule, 171, 203, tile, stride);
      assert.is(d, 0, `stride ${stride}, ${tile}-pixel tiles: max abs diff ${d}`);
    }
    if (stride === 10) {
      const short = tiledVsWhole(model, { ...rule, after: rule.after - 1 }, 171, 203, 97, stride);
      assert.ok(short > 1e-4, `too little context should change the map (diff ${short})`);
    }
  }
});

test("loadModel: a working image over tileSize runs as tiles with the one-pass map; keep is refused there; bad tileSize is refused", async () => {
  const big = patternImage(300, 230);
  const whole = (await loadModel(DBM, { workingSize: 0, tileSize: 0 })).run(big).map.data;
  const tiled = await loadModel(DBM, { workingSize: 0, tileSize: 256 });
  assert.is(maxDiff(tiled.run(big).map.data, whole), 0);
  assert.throws(() => tiled.run(big, ["conv1_1"]), /intermediate tensors \(conv1_1\) are not kept when the image is tiled \(300×230 at working size, tiles of 256 px\); a tileSize of 0 runs it in one pass/);
  assert.equal([...tiled.run(patternImage(200, 180), ["conv1_1"]).tensors.get("conv1_1")!.shape], [1, 180, 200, 8], "an image within tileSize runs in one pass");
  await loadModel(DBM, { tileSize: 227 }); // the minimum is allowed
  for (const bad of [100, -1, 300.5])
    await rejects(() => loadModel(DBM, { tileSize: bad }), /tileSize must be 0 \(never tile\) or a whole number of pixels ≥ 227/);
  await rejects(() => loadModel([PATCH, UNET], { tileSize: 60 }), /≥ 89/);
});

test.run();
