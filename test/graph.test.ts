// The texture layout and the lifetime-based texture plan.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { buildDbm } from "../src/graph/dbm.js";
import type { Graph } from "../src/graph/ir.js";
import { blockedScratch, planBlocked, planTextures, sharedScratchSize, type ScratchRule, type TexturePlan } from "../src/graph/plan.js";
import { buildPurohit } from "../src/graph/purohit.js";
import { kernelFor } from "../src/kernels/index.js";
import type { Blocking } from "../src/kernels/kernel.js";
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

/**
 * Plans `graph` and checks it is safe: lifetimes in passes, as plan.ts counts them
 * (pass 2i reads node i's inputs; a node with scratch writes its output in pass
 * 2i + 1, its interleave pass). Two tensors share a texture only if one is dead
 * before the other is written; a node's scratch textures hold no tensor live in
 * either of its passes, are distinct and of one size; every tensor fits its texture.
 */
function checkPlan(graph: Graph, keep: string[] = [], scratch: ScratchRule = () => null) {
  const plan = planTextures(graph, keep, scratch);
  const order = [...graph.inputs, ...graph.nodes.map((n) => n.name)];
  const born = new Map<string, number>(graph.inputs.map((t) => [t, -1]));
  const dies = new Map<string, number>();
  graph.nodes.forEach((n, i) => {
    n.inputs.forEach((t) => dies.set(t, 2 * i));
    born.set(n.name, scratch(n) ? 2 * i + 1 : 2 * i);
  });
  for (const t of [...keep, graph.output]) dies.set(t, Infinity);
  const lastPass = (t: string) => dies.get(t) ?? born.get(t)!;
  for (const a of order)
    for (const b of order) {
      if (a === b || plan.slotOf.get(a) !== plan.slotOf.get(b)) continue;
      const [first, second] = born.get(a)! < born.get(b)! ? [a, b] : [b, a];
      assert.ok(lastPass(first) < born.get(second)!, `"${first}" is still live when "${second}" reuses its texture`);
    }
  for (const t of order) {
    const { width, height } = textureLayout(graph.shapes.get(t)!);
    const slot = plan.slots[plan.slotOf.get(t)!];
    assert.ok(slot.width >= width && slot.height >= height, `"${t}" (${width}×${height}) does not fit its ${slot.width}×${slot.height} texture`);
  }
  graph.nodes.forEach((node, i) => {
    const need = scratch(node);
    const slots = plan.scratchOf.get(node.name);
    if (!need) return assert.is(slots, undefined, `${node.name} asked for no scratch`);
    assert.is(new Set(slots).size, need.count, `${node.name}: ${need.count} distinct scratch textures`);
    const live = order.filter((t) => born.get(t)! <= 2 * i + 1 && lastPass(t) >= 2 * i);
    for (const t of live) assert.not.ok(slots!.includes(plan.slotOf.get(t)!), `${node.name}: a scratch texture is "${t}"'s`);
    // WebGL's multi-target framebuffers need attachments of one size.
    for (const s of slots!) assert.equal(plan.slots[s], { width: need.width, height: need.height }, `${node.name}: scratch texture of the wrong size`);
  });
  return plan;
}

const area = (plan: TexturePlan) => plan.slots.reduce((sum, s) => sum + s.width * s.height, 0);

test("plan: DBM reuses textures and never overwrites a live tensor", () => {
  const graph = buildDbm(64, 48, { width: 1 });
  const plan = checkPlan(graph);
  assert.ok(plan.slots.length <= 4, `${plan.slots.length} textures for ${graph.nodes.length + 1} tensors`);
  console.log(`    plan: DBM 64×48 uses ${plan.slots.length} textures for ${graph.nodes.length + 1} tensors`);
});

test("plan: a register-blocked conv's output takes the texture of the input that dies there, never its scratch", () => {
  const graph = buildDbm(64, 48, { width: 1 });
  // As the executor blocks convs: 8 scratch textures of one size, for blocks of 8 columns.
  const convs = graph.nodes.filter((node) => node.op === "conv2d");
  const size = sharedScratchSize(convs.map((node) => {
    const [n, h, w, c] = graph.shapes.get(node.name)!;
    return [n, h, Math.ceil(w / 8), c] as const;
  }));
  const blocked: ScratchRule = (node) => (node.op === "conv2d" ? { count: 8, ...size } : null);
  const plan = checkPlan(graph, [], blocked);
  assert.is(plan.scratchOf.size, 14);
  // conv1_2 is conv1_1's last reader and writes its output after the blocked
  // pass: the two share a texture, so the largest layers need input + scratch,
  // then scratch + output, never all three at once. Besides the scratch, the
  // textures then hold about one largest activation (two if they were all live).
  assert.is(plan.slotOf.get("conv1_2"), plan.slotOf.get("conv1_1"));
  const largest = textureLayout(graph.shapes.get("conv1_1")!);
  const ratio = (area(plan) - 8 * size.width * size.height) / (largest.width * largest.height);
  assert.ok(ratio < 1.5, `besides the scratch, textures hold ${ratio.toFixed(2)}× the largest activation`);
  console.log(`    plan: blocked DBM 64×48 holds scratch + ${ratio.toFixed(2)}× its largest activation`);
});

test("plan: Purohit with every tensor kept gives each its own texture; blocked or not, it is safe", () => {
  const graph = buildPurohit(47, 31, { filters: [32, 64, 128] }, { filters: 64, depth: 5, size: 32 }, { patchStride: 15 });
  const plan = checkPlan(graph, [...graph.inputs, ...graph.nodes.map((n) => n.name)]);
  assert.is(new Set(plan.slotOf.values()).size, graph.nodes.length + 1);
  checkPlan(graph);
  // Convs and transposed convs blocked, with scratch small enough for tensors to use in their idle time.
  const blocked = checkPlan(graph, [], (node) => (node.op.startsWith("conv") ? { count: 4, width: 40, height: 40 } : null));
  assert.ok(blocked.scratchOf.size > 10);
});

/** Each node's blocking as its kernel asks (the executor also caps it at the GPU's draw buffers). */
function wantedBlocking(graph: Graph): Map<string, Blocking | null> {
  return new Map(graph.nodes.map((node) => {
    const inputs = node.inputs.map((t) => graph.shapes.get(t)!);
    return [node.name, kernelFor(node.op).gpu.blocking?.(node.attrs, inputs, graph.shapes.get(node.name)!) ?? null];
  }));
}

test("plan: an optional blocking (a conv on RGB input) is taken where the plan does not grow, and only there", () => {
  const cases: [Graph, string, boolean][] = [
    // conv1_1's scratch is conv1_2's, and conv1_2 already holds scratch and its input.
    [buildDbm(64, 48, { width: 1 }), "conv1_1", true],
    // The patch net's first output is Purohit's largest activation: its scratch would be one more.
    [buildPurohit(47, 31, { filters: [32, 64, 128] }, { filters: 64, depth: 5, size: 32 }, { patchStride: 15 }), "patch.blocks.0.conv1", false],
    [buildPurohit(47, 31, { filters: [32, 64, 128] }, { filters: 64, depth: 5, size: 32 }, { patchStride: 15 }), "unet.down.0", true],
  ];
  for (const [graph, node, taken] of cases) {
    const wanted = wantedBlocking(graph);
    assert.ok(wanted.get(node)?.optional, `${node}: its kernel marks its blocking optional`);
    const { blocking, plan } = planBlocked(graph, [], wanted);
    assert.is(blocking.get(node) !== null, taken, `${node} ${taken ? "blocked" : "not blocked"}`);
    for (const [name, b] of wanted) if (b && !b.optional) assert.equal(blocking.get(name), b, `${name}: a required blocking is always taken`);
    const requiredOnly = new Map([...wanted].map(([name, b]) => [name, b?.optional ? null : b]));
    const baseline = planBlocked(graph, [], requiredOnly).plan;
    const forced = planBlocked(graph, [], new Map(requiredOnly).set(node, { ...wanted.get(node)!, optional: false })).plan;
    // The rule itself: taken exactly when forcing it does not grow the plan.
    assert.is(area(forced) <= area(baseline), taken, `${node}: ${area(baseline)} texels without, ${area(forced)} with`);
    assert.ok(area(plan) <= area(baseline), "optional blockings never grow the plan");
    // And the plan it returns is safe, checked with the scratch it implies.
    checkPlan(graph, [], blockedScratch(graph, blocking));
  }
});

test.run();
