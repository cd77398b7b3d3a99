/**
 * Texture allocation by tensor lifetime, planned before the first pass (the
 * graph is static, so every lifetime is known). A tensor lives from the pass
 * that writes it to the last pass that reads it (to the end for the graph
 * output and tensors in `keep`); two tensors may share a texture when their
 * lifetimes do not overlap, so a pass never writes into a texture it reads.
 * A tensor uses the top-left width×height texels of its texture.
 *
 * Greedy by size, as TFLite's arena planner does for buffers: the largest
 * tensor is placed first, each into the texture it enlarges least (the first
 * ones set the big textures' sizes, the small ones fill their idle times), or
 * into a new texture when that would cost less. Placing in node order instead
 * parks small long-lived tensors (a U-Net's skip, Purohit's b1) in big free
 * textures and makes the later big tensors allocate new ones.
 *
 * A node may also ask for scratch textures, live only while it runs (what a
 * register-blocked conv draws into before the interleave pass). WebGL draws
 * into several textures at once only when all are one size, so scratch
 * textures keep exactly the size asked for; a tensor may use one in its idle
 * time where it fits as it is.
 *
 * Time is counted in passes, two a node: pass 2i reads node i's inputs, pass
 * 2i + 1 is its interleave pass when it has scratch. Such a node's output is
 * written only by that second pass, which reads nothing but the scratch, so the
 * output may take the texture of an input that dies at the node: a blocked layer
 * then needs input + scratch, then scratch + output, never all three at once.
 *
 * Which nodes to block is settled here too (planBlocked): a kernel may mark its
 * blocking optional, and such a node is blocked only where the plan stays as small.
 */
import { blockedWidth } from "../kernels/interleave-columns.js";
import type { Blocking } from "../kernels/kernel.js";
import { textureLayout, type Shape } from "../kernels/layout.js";
import type { Graph, Node } from "./ir.js";

export interface TexturePlan {
  /** Texture slot of every tensor. */
  readonly slotOf: ReadonlyMap<string, number>;
  /** Size of each slot's texture. */
  readonly slots: readonly { readonly width: number; readonly height: number }[];
  /** Scratch slots of the nodes that asked for some, by node name; one node's are all the same size. */
  readonly scratchOf: ReadonlyMap<string, readonly number[]>;
}

/** Scratch textures a node needs while it runs: `count` of width×height. */
export type ScratchRule = (node: Node) => { count: number; width: number; height: number } | null;

interface Slot {
  width: number;
  height: number;
  /** Scratch slots never change size. */
  readonly scratch: boolean;
  /** Passes [from, to] (inclusive) of everything placed in it. */
  readonly busy: [number, number][];
}

const isIdle = (slot: Slot, from: number, to: number) => slot.busy.every(([a, b]) => to < a || b < from);

export function planTextures(graph: Graph, keep: readonly string[] = [], scratch: ScratchRule = () => null): TexturePlan {
  const slots: Slot[] = [];
  const scratchOf = new Map<string, number[]>();
  // Lifetimes in passes (see above): graph inputs are written before pass 0.
  const born = new Map<string, number>(graph.inputs.map((t) => [t, -1]));
  const dies = new Map<string, number>();
  graph.nodes.forEach((node, i) => {
    const reads = 2 * i;
    const need = scratch(node);
    node.inputs.forEach((t) => dies.set(t, reads));
    born.set(node.name, need ? reads + 1 : reads);
    if (!need) return;
    const taken: number[] = [];
    for (let k = 0; k < need.count; k++) {
      let s = slots.findIndex((slot) => slot.scratch && slot.width === need.width && slot.height === need.height && isIdle(slot, reads, reads + 1));
      if (s < 0) s = slots.push({ width: need.width, height: need.height, scratch: true, busy: [] }) - 1;
      slots[s].busy.push([reads, reads + 1]);
      taken.push(s);
    }
    scratchOf.set(node.name, taken);
  });
  for (const t of [...keep, graph.output]) dies.set(t, Infinity);

  const size = (t: string) => textureLayout(graph.shapes.get(t)!);
  const largestFirst = [...born.keys()].sort((a, b) => size(b).width * size(b).height - size(a).width * size(a).height);
  const slotOf = new Map<string, number>();
  for (const t of largestFirst) {
    const { width, height } = size(t);
    const from = born.get(t)!;
    const to = dies.get(t) ?? from;
    // A new texture costs the tensor's area; an idle one costs what it grows by.
    // Between idle ones that cost the same, the one busy closest in time before or
    // after: that leaves the long idle stretches of the others for later tensors.
    let best = -1;
    let bestCost = width * height;
    let bestGap = Infinity;
    slots.forEach((slot, s) => {
      if (!isIdle(slot, from, to)) return;
      const cost = Math.max(slot.width, width) * Math.max(slot.height, height) - slot.width * slot.height;
      if (slot.scratch && cost > 0) return;
      const gap = Math.min(...slot.busy.map(([a, b]) => (b < from ? from - b : a - to)));
      if (cost < bestCost || (cost === bestCost && best >= 0 && gap < bestGap)) {
        best = s;
        bestCost = cost;
        bestGap = gap;
      }
    });
    if (best < 0) best = slots.push({ width, height, scratch: false, busy: [] }) - 1;
    const slot = slots[best];
    slot.width = Math.max(slot.width, width);
    slot.height = Math.max(slot.height, height);
    slot.busy.push([from, to]);
    slotOf.set(t, best);
  }
  return { slotOf, slots: slots.map(({ width, height }) => ({ width, height })), scratchOf };
}

/**
 * The one size of every blocked pass's scratch textures, so that one set serves
 * them all: as wide as the widest blocked tensor's texture, each one's tiles
 * re-flowed into that width, as high as the highest of those. (The smallest-area
 * size, tall and narrow, used less memory but made Purohit 1.5× slower on an H100.)
 */
export function sharedScratchSize(blockedShapes: readonly Shape[]): { width: number; height: number } {
  const width = Math.max(0, ...blockedShapes.map((s) => textureLayout(s).width));
  return { width, height: Math.max(0, ...blockedShapes.map((s) => textureLayout(s, width).height)) };
}

/** The tensor a blocked pass writes pixel k of each block into (one per k). */
export function blockedShape([n, h, w, c]: Shape, b: Blocking): Shape {
  return [n, h, blockedWidth(w, b.pixels, b.step), c];
}

/** The scratch textures of the nodes blocked as `blocking` says: `pixels` of them each, all of sharedScratchSize(). */
export function blockedScratch(graph: Graph, blocking: ReadonlyMap<string, Blocking | null>): ScratchRule {
  const size = sharedScratchSize(graph.nodes.flatMap((node) => {
    const b = blocking.get(node.name);
    return b ? [blockedShape(graph.shapes.get(node.name)!, b)] : [];
  }));
  return (node) => {
    const b = blocking.get(node.name);
    return b ? { count: b.pixels, ...size } : null;
  };
}

const planTexels = (plan: TexturePlan) => plan.slots.reduce((sum, s) => sum + s.width * s.height, 0);

/**
 * Which nodes to block, and the texture plan for that. `wanted`: each node's
 * blocking as its kernel asks (null: none). A blocking marked optional is
 * taken, node by node in graph order, only where the plan does not grow with it.
 */
export function planBlocked(graph: Graph, keep: readonly string[], wanted: ReadonlyMap<string, Blocking | null>): { blocking: Map<string, Blocking | null>; plan: TexturePlan } {
  let blocking = new Map([...wanted].map(([name, b]) => [name, b?.optional ? null : b]));
  let plan = planTextures(graph, keep, blockedScratch(graph, blocking));
  for (const [name, b] of wanted) {
    if (!b?.optional) continue;
    const trial = new Map(blocking).set(name, b);
    const trialPlan = planTextures(graph, keep, blockedScratch(graph, trial));
    if (planTexels(trialPlan) > planTexels(plan)) continue;
    blocking = trial;
    plan = trialPlan;
  }
  return { blocking, plan };
}

/** Index of the smallest texture at least width×height, or -1. */
export function smallestFitting(textures: readonly { width: number; height: number }[], width: number, height: number): number {
  let best = -1;
  textures.forEach((t, i) => {
    if (t.width >= width && t.height >= height && (best < 0 || t.width * t.height < textures[best].width * textures[best].height)) best = i;
  });
  return best;
}
