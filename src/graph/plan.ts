/**
 * Texture allocation by tensor lifetime. Walking the nodes in order, each
 * output takes the smallest free texture it fits in (a tensor uses the
 * top-left width×height texels of a larger one), or a new one; an input is
 * freed after the last node that reads it. A node never writes into a texture
 * it reads. Tensors in `keep` (and the graph output) stay live to the end.
 * A node may also ask for scratch textures, live only while it runs (what a
 * register-blocked conv draws into before the interleave pass): they have a
 * free list of their own, since several are drawn into at once and WebGL wants
 * those all of one size.
 */
import { textureLayout } from "../kernels/layout.js";
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

export function planTextures(graph: Graph, keep: readonly string[] = [], scratch: ScratchRule = () => null): TexturePlan {
  const lastUse = new Map<string, number>();
  graph.nodes.forEach((node, i) => node.inputs.forEach((t) => lastUse.set(t, i)));
  for (const t of [...keep, graph.output]) lastUse.set(t, Infinity);

  const slots: { width: number; height: number }[] = [];
  const free: number[] = [];
  const slotOf = new Map<string, number>();
  const scratchOf = new Map<string, number[]>();
  // Scratch slots have a free list of their own, so that tensors never take them
  // and every node's scratch can come from the set the last one freed.
  const freeScratch: number[] = [];
  const takeSlot = (width: number, height: number) => {
    const i = smallestFitting(free.map((s) => slots[s]), width, height);
    return i >= 0 ? free.splice(i, 1)[0] : slots.push({ width, height }) - 1;
  };
  // WebGL draws into several textures at once only when they are all the same
  // size: scratch is always exactly the size asked for.
  const takeScratch = (width: number, height: number) => {
    const i = freeScratch.findIndex((s) => slots[s].width === width && slots[s].height === height);
    return i >= 0 ? freeScratch.splice(i, 1)[0] : slots.push({ width, height }) - 1;
  };
  const take = (tensorName: string) => {
    const { width, height } = textureLayout(graph.shapes.get(tensorName)!);
    slotOf.set(tensorName, takeSlot(width, height));
  };

  graph.inputs.forEach(take);
  graph.nodes.forEach((node, i) => {
    take(node.name);
    const need = scratch(node);
    if (need) {
      const taken = Array.from({ length: need.count }, () => takeScratch(need.width, need.height));
      scratchOf.set(node.name, taken);
      freeScratch.push(...taken);
    }
    for (const t of new Set(node.inputs)) if (lastUse.get(t) === i) free.push(slotOf.get(t)!);
  });
  return { slotOf, slots, scratchOf };
}

/** Index of the smallest texture at least width×height, or -1. */
export function smallestFitting(textures: readonly { width: number; height: number }[], width: number, height: number): number {
  let best = -1;
  textures.forEach((t, i) => {
    if (t.width >= width && t.height >= height && (best < 0 || t.width * t.height < textures[best].width * textures[best].height)) best = i;
  });
  return best;
}
