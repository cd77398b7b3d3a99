/**
 * The segmentation MRF as a graph, so that it runs on either executor: edge
 * weights from the image, then `iterations` damped mean-field passes starting
 * from the map itself. Inputs: "map" [1, h, w, 1] (b, 1 = blurred) and
 * "image" [1, h, w, 3] (RGB in 0..1); output "q" [1, h, w, 1], P(blurred).
 */
import { GraphBuilder, type Graph } from "./ir.js";

export interface MrfOptions {
  /** λ, the smoothness weight per neighbour pair (the unaries are −ln b, −ln(1 − b)). */
  readonly lambda: number;
  /** β of the contrast term, from contrastBeta() on the same image. */
  readonly beta: number;
  readonly iterations: number;
  /** Share of the old q kept at each pass. */
  readonly damping: number;
}

export function buildMrf(height: number, width: number, opts: MrfOptions): Graph {
  if (!(Number.isSafeInteger(opts.iterations) && opts.iterations >= 1)) throw new Error(`mrf: iterations must be a positive integer, got ${opts.iterations}`);
  const g = new GraphBuilder();
  const map = g.input("map", [1, height, width, 1]);
  const image = g.input("image", [1, height, width, 3]);
  const edges = g.add("mrf_edges", "edges", [image], { lambda: opts.lambda, beta: opts.beta });
  let q = map;
  for (let i = 1; i <= opts.iterations; i++) q = g.add("mrf_meanfield", i === opts.iterations ? "q" : `q${i}`, [map, edges, q], { damping: opts.damping });
  return g.build(q);
}
