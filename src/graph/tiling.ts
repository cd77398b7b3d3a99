/**
 * Spatial tiling: an image too big to run in one pass runs as overlapping
 * tiles, with the same map as the one-pass run.
 *
 * A model's graph is cut in two at a tensor each of whose cells depends on a
 * bounded window of input pixels: the "trunk" (everything that tensor depends
 * on: DBM's convs, pools and score; Purohit's patch classifier and its
 * per-pixel average) and the "head" (the rest: DBM's upsampling and sigmoid;
 * Purohit's U-Net, which works on a fixed-size copy of the whole image, and
 * the fusion). The trunk runs on each tile; each tile keeps only the cells
 * whose whole window lies inside it and whose pooling or patch grid lines up
 * with the untiled one, so every kept cell is computed from the same pixels by
 * the same arithmetic as in one pass. The head runs once, at full size, on the
 * stitched tensor. Tiles cost extra work for their overlaps: with DBM's 90
 * pixels of context, 2048-pixel tiles on a 4096² image do about 20% more.
 */
import type { Tensor } from "../kernels/kernel.js";
import { textureLayout } from "../kernels/layout.js";
import type { Graph } from "./ir.js";

/** Where and how a model's graph may be tiled. */
export interface TilingRule {
  /** The trunk's output tensor: where the graph is cut. */
  readonly cut: string;
  /** Input pixels per cell of the cut tensor along each axis (DBM: 16, four 2×2 pools; Purohit: 1). */
  readonly cell: number;
  /** Tile origins are multiples of this, so pooling and patch grids line up with the whole image's. */
  readonly align: number;
  /** Input pixels a cell's value depends on before its first pixel... */
  readonly before: number;
  /** ...and after its last one. */
  readonly after: number;
}

/** One tile along one axis: input pixels [start, end), kept cells [first, last) of the cut tensor. */
export interface TileSpan {
  readonly start: number;
  readonly end: number;
  readonly first: number;
  readonly last: number;
}

/**
 * How to cover an axis of `length` input pixels and `cells` cut-tensor cells
 * with tiles at most `tileSize` pixels long: one tile when the axis fits;
 * else the fewest tiles, all of one length (one graph and one set of textures
 * for every tile), the shortest that needs no more of them (the least work).
 */
export function planSpans(length: number, cells: number, tileSize: number, rule: TilingRule): TileSpan[] {
  if (length <= tileSize) return [{ start: 0, end: length, first: 0, last: cells }];
  // Tile lengths ≡ length (mod align), so that the last tile, which ends at the image edge, starts on the grid.
  const longest = tileSize - (((tileSize - length) % rule.align) + rule.align) % rule.align;
  const fewest = spansOfLength(length, cells, longest, rule);
  if (!fewest)
    throw new Error(
      `blurmap: a ${tileSize}-pixel tile is too small for this model: each cell needs ${rule.before} pixels of context before it and ${rule.after} after; ` +
        `use a tileSize of at least ${minimumTileSize(rule)}`,
    );
  for (let t = longest - rule.align * Math.floor((longest - minimumTileSize(rule)) / rule.align); t < longest; t += rule.align) {
    const spans = spansOfLength(length, cells, t, rule);
    if (spans && spans.length <= fewest.length) return spans;
  }
  return fewest;
}

/** Tiles of exactly `tileLength` pixels, each from the first cell the last one did not keep; null if one would keep none. */
function spansOfLength(length: number, cells: number, tileLength: number, rule: TilingRule): TileSpan[] | null {
  const spans: TileSpan[] = [];
  for (let first = 0; first < cells; ) {
    const start = Math.max(0, Math.floor((first * rule.cell - rule.before) / rule.align) * rule.align);
    if (start + tileLength >= length) {
      // The last tile ends at the edge: it starts earlier, with more context than it needs.
      spans.push({ start: length - tileLength, end: length, first, last: cells });
      break;
    }
    const last = Math.min(cells, Math.floor((start + tileLength - rule.after) / rule.cell));
    if (last <= first) return null;
    spans.push({ start, end: start + tileLength, first, last });
    first = last;
  }
  return spans;
}

/** The smallest tileSize that keeps at least one cell in every tile, wherever it lies. */
export function minimumTileSize(rule: TilingRule): number {
  return rule.before + rule.after + rule.cell + 2 * rule.align - 1;
}

/** The nodes the cut tensor depends on, as a graph with the same inputs (those it reads). */
export function trunkOf(graph: Graph, cut: string): Graph {
  const needed = new Set([cut]);
  for (const node of [...graph.nodes].reverse()) if (needed.has(node.name)) node.inputs.forEach((t) => needed.add(t));
  if (!graph.nodes.some((n) => n.name === cut)) throw new Error(`graph: no node named "${cut}" to cut at`);
  return {
    inputs: graph.inputs.filter((t) => needed.has(t)),
    output: cut,
    shapes: graph.shapes,
    nodes: graph.nodes.filter((n) => needed.has(n.name)),
  };
}

/** The nodes after the cut, as a graph whose inputs are the cut tensor and whichever of the graph's inputs they read. */
export function headOf(graph: Graph, cut: string): Graph {
  const trunk = new Set(trunkOf(graph, cut).nodes.map((n) => n.name));
  const nodes = graph.nodes.filter((n) => !trunk.has(n.name));
  const read = new Set(nodes.flatMap((n) => n.inputs));
  for (const t of read)
    if (trunk.has(t) && t !== cut) throw new Error(`graph: "${t}" is read after the cut at "${cut}", so the graph cannot be tiled there`);
  return { inputs: [cut, ...graph.inputs.filter((t) => read.has(t))], output: graph.output, shapes: graph.shapes, nodes };
}

/** Rows [y0, y1) and columns [x0, x1) of an NHWC tensor with one image. */
export function crop(t: Tensor, y0: number, y1: number, x0: number, x1: number): Tensor {
  const [, , w, c] = t.shape;
  const out = new Float32Array((y1 - y0) * (x1 - x0) * c);
  for (let y = y0; y < y1; y++) out.set(t.data.subarray((y * w + x0) * c, (y * w + x1) * c), (y - y0) * (x1 - x0) * c);
  return { shape: [1, y1 - y0, x1 - x0, c], data: out };
}

/** Copies `part` into `whole` with its top-left corner at (y, x). */
function paste(whole: Tensor, part: Tensor, y: number, x: number): void {
  const [, , w, c] = whole.shape;
  const [, h, pw] = part.shape;
  for (let r = 0; r < h; r++) whole.data.set(part.data.subarray(r * pw * c, (r + 1) * pw * c), ((y + r) * w + x) * c);
}

/** Runs `graph` on one set of inputs and returns its output (the executor of the caller's backend). */
export type RunGraph = (graph: Graph, inputs: readonly Tensor[]) => Tensor;

/**
 * Runs `whole` (the model's graph at the image's size) on `input` [1, H, W, C]
 * as tiles at most `tileSize` pixels on a side. `graphAt(h, w)` is the model's
 * graph at a tile's size (cached by the caller: tiles share sizes).
 */
export function runTiled(whole: Graph, graphAt: (h: number, w: number) => Graph, rule: TilingRule, input: Tensor, tileSize: number, run: RunGraph): Tensor {
  const [, height, width] = input.shape;
  const cutShape = whole.shapes.get(rule.cut)!;
  const rows = planSpans(height, cutShape[1], tileSize, rule);
  const cols = planSpans(width, cutShape[2], tileSize, rule);
  const stitched: Tensor = { shape: cutShape, data: new Float32Array(cutShape[1] * cutShape[2] * cutShape[3]) };
  for (const r of rows)
    for (const c of cols) {
      const trunk = trunkOf(graphAt(r.end - r.start, c.end - c.start), rule.cut);
      const out = run(trunk, [crop(input, r.start, r.end, c.start, c.end)]);
      // Tile origins are multiples of the cell size, so tile cell i is image cell start/cell + i.
      const y0 = r.first - r.start / rule.cell;
      const x0 = c.first - c.start / rule.cell;
      paste(stitched, crop(out, y0, y0 + r.last - r.first, x0, x0 + c.last - c.first), r.first, c.first);
    }
  const head = headOf(whole, rule.cut);
  return run(head, head.inputs.map((t) => (t === rule.cut ? stitched : input)));
}

/**
 * The side of the tiles to run an image as, or 0 to run it in one pass: 0 when
 * it fits `tileSize` and `fits` (a graph at that size fits the device), else
 * `tileSize`, halved while a tile would not fit. `tileSize` 0: never tile.
 */
export function chooseTileSide(height: number, width: number, tileSize: number, rule: TilingRule, fits: (h: number, w: number) => boolean): number {
  if (tileSize === 0) return 0;
  if (height <= tileSize && width <= tileSize && fits(height, width)) return 0;
  let side = tileSize;
  while (!fits(Math.min(side, height), Math.min(side, width)) && Math.floor(side / 2) >= minimumTileSize(rule)) side = Math.floor(side / 2);
  return side;
}

/** Whether every tensor of `graph` fits in textures at most `maxSide` texels on a side. */
export function fitsTextures(graph: Graph, maxSide: number): boolean {
  for (const t of [...graph.inputs, ...graph.nodes.map((n) => n.name)]) {
    const { width, height } = textureLayout(graph.shapes.get(t)!);
    if (width > maxSide || height > maxSide) return false;
  }
  return true;
}
