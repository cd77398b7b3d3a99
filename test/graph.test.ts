// The texture layout and the lifetime-based texture plan.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { buildDbm } from "../src/graph/dbm.js";
import type { Graph } from "../src/graph/ir.js";
import { planTextures } from "../src/graph/plan.js";
import { buildPurohit } from "../src/graph/purohit.js";
import { packTexture, textureLayout, unpackTexture, type Shape } from "../src/kernels/layout.js";
import { randomNormal } from "./random.js";

test("layout: pack then unpack is the identity, and padded channels are zero", () => {
  for (const shape of [[1, 5, 7, 3], [2, 4, 3, 8], [13, 30, 30, 32], [1, 37, 53, 1], [3, 1, 1, 5]] as Shape[]) {
    const size = shape.reduce((a, b) => a * b, 1);
    const data = randomNormal(size, 9);
    const layout = textureLayout(shape);
    const texels = packTexture(data, layout);
    assert.equal([...unpackTexture(texels, layout)], [...data], `shape ${shape}`);
    assert.ok(layout.width * layout.height >= shape[0] * Math.ceil(shape[3] / 4) * shape[1] * shape[2]);
    // The last channel group's padding (channels c..4·groups−1) must read as zero.
    const t = layout.groups - 1;
    const texel = Math.floor(t / layout.cols) * shape[1] * layout.width + (t % layout.cols) * shape[2];
    for (let ch = shape[3] % 4 || 4; ch < 4; ch++) assert.is(texels[texel * 4 + ch], 0, `shape ${shape}: padding channel ${ch}`);
  }
});

test("layout: DBM's largest activations stay under 8192 texels a side up to 1024²", () => {
  const graph = buildDbm(1024, 1024, { width: 1 });
  let worst = 0;
  for (const shape of graph.shapes.values()) {
    const { width, height } = textureLayout(shape);
    worst = Math.max(worst, width, height);
  }
  assert.ok(worst <= 8192, `largest texture side ${worst}`);
});

function checkPlan(graph: Graph, keep: string[] = []) {
  const plan = planTextures(graph, keep);
  const order = [...graph.inputs, ...graph.nodes.map((n) => n.name)];
  const born = new Map(order.map((t, i) => [t, i]));
  const dies = new Map<string, number>();
  graph.nodes.forEach((n, i) => n.inputs.forEach((t) => dies.set(t, i + graph.inputs.length)));
  for (const t of [...keep, graph.output]) dies.set(t, Infinity);
  // Two tensors share a slot only if one is dead before the other is written.
  for (const a of order)
    for (const b of order) {
      if (a === b || plan.slotOf.get(a) !== plan.slotOf.get(b)) continue;
      const [first, second] = born.get(a)! < born.get(b)! ? [a, b] : [b, a];
      assert.ok((dies.get(first) ?? born.get(first)!) < born.get(second)!, `"${first}" is still live when "${second}" reuses its texture`);
    }
  for (const t of order) {
    const { width, height } = textureLayout(graph.shapes.get(t)!);
    const slot = plan.slots[plan.slotOf.get(t)!];
    assert.ok(slot.width >= width && slot.height >= height, `"${t}" (${width}×${height}) does not fit its ${slot.width}×${slot.height} texture`);
  }
  return plan;
}

test("plan: DBM reuses textures and never overwrites a live tensor", () => {
  const graph = buildDbm(64, 48, { width: 1 });
  const plan = checkPlan(graph);
  assert.ok(plan.slots.length <= 4, `${plan.slots.length} textures for ${graph.nodes.length + 1} tensors`);
  console.log(`    plan: DBM 64×48 uses ${plan.slots.length} textures for ${graph.nodes.length + 1} tensors`);
});

test("plan: scratch textures (the blocked conv's column phases) never alias a tensor live during their node", () => {
  const graph = buildDbm(64, 48, { width: 1 });
  const scratchSize = (node: Graph["nodes"][number]) => {
    const [n, h, w, c] = graph.shapes.get(node.name)!;
    return textureLayout([n, h, Math.ceil(w / 8), c]);
  };
  const plan = planTextures(graph, [], (node) => (node.op === "conv2d" ? { count: 8, ...scratchSize(node) } : null));
  const order = [...graph.inputs, ...graph.nodes.map((n) => n.name)];
  const born = new Map(order.map((t, i) => [t, i - graph.inputs.length]));
  const dies = new Map<string, number>();
  graph.nodes.forEach((n, i) => n.inputs.forEach((t) => dies.set(t, i)));
  dies.set(graph.output, Infinity);
  let convs = 0;
  graph.nodes.forEach((node, i) => {
    const scratch = plan.scratchOf.get(node.name);
    if (node.op !== "conv2d") return assert.is(scratch, undefined);
    convs++;
    assert.is(new Set(scratch).size, 8, `${node.name}: 8 distinct scratch textures`);
    const live = order.filter((t) => born.get(t)! <= i && (dies.get(t) ?? born.get(t)!) >= i);
    for (const t of live) assert.not.ok(scratch!.includes(plan.slotOf.get(t)!), `${node.name}: a scratch texture is "${t}"'s`);
    const { width, height } = scratchSize(node);
    for (const slot of scratch!) assert.ok(plan.slots[slot].width >= width && plan.slots[slot].height >= height, `${node.name}: scratch too small`);
    // WebGL's multi-target framebuffers need attachments of one size.
    assert.is(new Set(scratch!.map((slot) => `${plan.slots[slot].width}×${plan.slots[slot].height}`)).size, 1, `${node.name}: scratch sizes differ`);
  });
  assert.is(convs, 14);
});

test("plan: Purohit with every tensor kept gives each its own texture", () => {
  const graph = buildPurohit(47, 31, { filters: [32, 64, 128] }, { filters: 64, depth: 5, size: 32 }, { patchStride: 15 });
  const plan = checkPlan(graph, [...graph.inputs, ...graph.nodes.map((n) => n.name)]);
  assert.is(new Set(plan.slotOf.values()).size, graph.nodes.length + 1);
  checkPlan(graph);
});

test.run();
