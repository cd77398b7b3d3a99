/**
 * Texture allocation by tensor lifetime. Walking the nodes in order, each
 * output takes the smallest free texture it fits in (a tensor uses the
 * top-left width×height texels of a larger one), or a new one; an input is
 * freed after the last node that reads it. A node never writes into a texture
 * it reads. Tensors in `keep` (and the graph output) stay live to the end.
 */
import { textureLayout } from "../kernels/layout.js";
import type { Graph } from "./ir.js";

export interface TexturePlan {
  /** Texture slot of every tensor. */
  readonly slotOf: ReadonlyMap<string, number>;
  /** Size of each slot's texture. */
  readonly slots: readonly { readonly width: number; readonly height: number }[];
}

export function planTextures(graph: Graph, keep: readonly string[] = []): TexturePlan {
  const lastUse = new Map<string, number>();
  graph.nodes.forEach((node, i) => node.inputs.forEach((t) => lastUse.set(t, i)));
  for (const t of [...keep, graph.output]) lastUse.set(t, Infinity);

  const slots: { width: number; height: number }[] = [];
  const free: number[] = [];
  const slotOf = new Map<string, number>();
  const take = (tensorName: string) => {
    const { width, height } = textureLayout(graph.shapes.get(tensorName)!);
    const i = smallestFitting(free.map((s) => slots[s]), width, height);
    const slot = i >= 0 ? free.splice(i, 1)[0] : slots.push({ width, height }) - 1;
    slotOf.set(tensorName, slot);
  };

  graph.inputs.forEach(take);
  graph.nodes.forEach((node, i) => {
    take(node.name);
    for (const t of new Set(node.inputs)) if (lastUse.get(t) === i) free.push(slotOf.get(t)!);
  });
  return { slotOf, slots };
}

/** Index of the smallest texture at least width×height, or -1. */
export function smallestFitting(textures: readonly { width: number; height: number }[], width: number, height: number): number {
  let best = -1;
  textures.forEach((t, i) => {
    if (t.width >= width && t.height >= height && (best < 0 || t.width * t.height < textures[best].width * textures[best].height)) best = i;
  });
  return best;
}
