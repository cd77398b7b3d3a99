/**
 * The exact minimiser of the binary segmentation MRF (see kernels/mrf-meanfield.ts
 * for the energy), by an s-t minimum cut: the CPU reference the GPU's
 * mean-field result is measured against.
 *
 * Construction (Kolmogorov & Zabih 2004): pixel p on the source side means
 * x_p = 1 (blurred). Arc s→p costs U_p(0) when cut, p→t costs U_p(1); only
 * their difference matters, so each pixel has one of the two. A neighbour pair
 * gets arcs both ways with capacity w_pq. The cut is found by Dinic's
 * max-flow (BFS levels, then blocking flows along them), written iteratively
 * because augmenting paths on a grid can be hundreds of thousands of pixels long.
 */
import { MAP_EPSILON } from "../kernels/mrf-meanfield.js";
import { NEIGHBOURS } from "../kernels/mrf-edges.js";

/** A labelling: 1 = blurred, 0 = sharp, row-major. */
export type Labels = Uint8Array;

/** Residual capacities below this count as saturated (capacities are O(1) floats). */
const EPS = 1e-9;

/** `map`: b per pixel (h·w); `edges`: the mrf_edges output (h·w·4: right, down, left, up). */
export function graphCut(map: Float32Array, edges: Float32Array, height: number, width: number): Labels {
  const pixels = height * width;
  if (map.length !== pixels || edges.length !== pixels * 4)
    throw new Error(`graphCut: a ${width}×${height} grid needs ${pixels} map values and ${pixels * 4} edge weights, got ${map.length} and ${edges.length}`);
  const net = buildNetwork(map, edges, height, width);
  maxFlow(net);
  return blurredSide(net).subarray(0, pixels);
}

/** E(x) of a labelling: for tests and for reporting how close another solver got. */
export function mrfEnergy(labels: Labels, map: Float32Array, edges: Float32Array, height: number, width: number): number {
  let energy = 0;
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) {
      const p = y * width + x;
      const b = clampMap(map[p]);
      energy += labels[p] ? -Math.log(b) : -Math.log(1 - b);
      // Right and down only: each pair once.
      if (x + 1 < width && labels[p] !== labels[p + 1]) energy += pairWeight(edges, p, p + 1, 0);
      if (y + 1 < height && labels[p] !== labels[p + width]) energy += pairWeight(edges, p, p + width, 1);
    }
  return energy;
}

/**
 * The weight of pair (p, q), q being p's neighbour in direction k (0 right, 1 down).
 * Symmetric in the image, but both sides' values are averaged so that float
 * rounding (edges made on a GPU) cannot make the pair lopsided.
 */
function pairWeight(edges: Float32Array, p: number, q: number, k: number): number {
  return 0.5 * (edges[p * 4 + k] + edges[q * 4 + k + 2]);
}

const clampMap = (b: number) => Math.min(Math.max(b, MAP_EPSILON), 1 - MAP_EPSILON);

interface Network {
  readonly nodes: number;
  readonly source: number;
  readonly sink: number;
  /** CSR: arcs of node v are first[v] .. first[v+1]-1. */
  readonly first: Int32Array;
  readonly head: Int32Array;
  readonly reverse: Int32Array;
  readonly residual: Float64Array;
}

function buildNetwork(map: Float32Array, edges: Float32Array, height: number, width: number): Network {
  const pixels = height * width;
  const source = pixels;
  const sink = pixels + 1;
  const nodes = pixels + 2;
  // Pairs (u, v, cap u→v, cap v→u): one terminal pair per pixel, one per right/down neighbour.
  const pairs: [number, number, number, number][] = [];
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) {
      const p = y * width + x;
      const b = clampMap(map[p]);
      const costBlurred = -Math.log(b) + Math.log(1 - b); // U_p(1) − U_p(0)
      if (costBlurred > 0) pairs.push([p, sink, costBlurred, 0]);
      else if (costBlurred < 0) pairs.push([source, p, -costBlurred, 0]);
      NEIGHBOURS.slice(0, 2).forEach(([dy, dx], k) => {
        if (y + dy >= height || x + dx >= width) return;
        const q = (y + dy) * width + x + dx;
        const w = pairWeight(edges, p, q, k);
        if (w > 0) pairs.push([p, q, w, w]);
      });
    }
  const degree = new Int32Array(nodes + 1);
  for (const [u, v] of pairs) {
    degree[u + 1]++;
    degree[v + 1]++;
  }
  const first = new Int32Array(nodes + 1);
  for (let v = 0; v < nodes; v++) first[v + 1] = first[v] + degree[v + 1];
  const fill = first.slice(0, nodes);
  const arcs = first[nodes];
  const head = new Int32Array(arcs);
  const reverse = new Int32Array(arcs);
  const residual = new Float64Array(arcs);
  for (const [u, v, uv, vu] of pairs) {
    const a = fill[u]++;
    const b = fill[v]++;
    head[a] = v;
    head[b] = u;
    residual[a] = uv;
    residual[b] = vu;
    reverse[a] = b;
    reverse[b] = a;
  }
  return { nodes, source, sink, first, head, reverse, residual };
}

function maxFlow(net: Network): number {
  const level = new Int32Array(net.nodes);
  const queue = new Int32Array(net.nodes);
  const next = new Int32Array(net.nodes);
  const path = new Int32Array(net.nodes);
  let flow = 0;
  while (buildLevels(net, level, queue)) flow += blockingFlow(net, level, next, path);
  return flow;
}

/** BFS from the source over unsaturated arcs; false when the sink is unreachable. */
function buildLevels(net: Network, level: Int32Array, queue: Int32Array): boolean {
  level.fill(-1);
  level[net.source] = 0;
  let read = 0;
  let write = 0;
  queue[write++] = net.source;
  while (read < write) {
    const v = queue[read++];
    for (let a = net.first[v]; a < net.first[v + 1]; a++) {
      const u = net.head[a];
      if (level[u] < 0 && net.residual[a] > EPS) {
        level[u] = level[v] + 1;
        queue[write++] = u;
      }
    }
  }
  return level[net.sink] >= 0;
}

/** Augments along level-increasing paths until none is left (iterative DFS with current-arc pointers). */
function blockingFlow(net: Network, level: Int32Array, next: Int32Array, path: Int32Array): number {
  const { first, head, reverse, residual, source, sink } = net;
  next.set(first.subarray(0, net.nodes));
  let total = 0;
  let depth = 0;
  let v = source;
  for (;;) {
    if (v === sink) {
      let f = Infinity;
      for (let i = 0; i < depth; i++) f = Math.min(f, residual[path[i]]);
      let firstSaturated = -1;
      for (let i = 0; i < depth; i++) {
        residual[path[i]] -= f;
        residual[reverse[path[i]]] += f;
        if (firstSaturated < 0 && residual[path[i]] <= EPS) firstSaturated = i;
      }
      total += f;
      depth = firstSaturated;
      v = depth === 0 ? source : head[path[depth - 1]];
      continue;
    }
    let advanced = false;
    for (; next[v] < first[v + 1]; next[v]++) {
      const a = next[v];
      const u = head[a];
      if (residual[a] > EPS && level[u] === level[v] + 1) {
        path[depth++] = a;
        v = u;
        advanced = true;
        break;
      }
    }
    if (advanced) continue;
    if (v === source) return total;
    level[v] = -1; // dead end for this phase
    depth--;
    v = depth === 0 ? source : head[path[depth - 1]];
    next[v]++;
  }
}

/**
 * Label 0 for the nodes that can still reach the sink in the residual network,
 * 1 for the rest. Of the minimum cuts this is the one with the most pixels
 * blurred, so a tie (b = 0.5, λ = 0) gives 1, as thresholding at 0.5 does.
 */
function blurredSide(net: Network): Uint8Array {
  const reachesSink = new Uint8Array(net.nodes);
  const stack = new Int32Array(net.nodes);
  let top = 0;
  stack[top++] = net.sink;
  reachesSink[net.sink] = 1;
  while (top > 0) {
    const v = stack[--top];
    // u -> v is the reverse of v's arc a to u.
    for (let a = net.first[v]; a < net.first[v + 1]; a++) {
      const u = net.head[a];
      if (!reachesSink[u] && net.residual[net.reverse[a]] > EPS) {
        reachesSink[u] = 1;
        stack[top++] = u;
      }
    }
  }
  return reachesSink.map((r) => 1 - r);
}
