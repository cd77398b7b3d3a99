/**
 * A loaded blur detector: its weights bound to graphs (one per image size,
 * built on demand), run on the CPU reference or the WebGL executor.
 */
import { runCpu, type BoundParams } from "./graph/cpu-executor.js";
import { buildDbm, DBM_FILE, DBM_TILING, type DbmArchitecture } from "./graph/dbm.js";
import type { Graph } from "./graph/ir.js";
import { buildPurohit, PATCH_FILE, purohitTiling, UNET_FILE, type PatchNetArchitecture, type UNetArchitecture } from "./graph/purohit.js";
import { chooseTileSide, fitsTextures, minimumTileSize, runTiled, type TilingRule } from "./graph/tiling.js";
import { WebGLExecutor } from "./graph/webgl-executor.js";
import { checkImage, shrinkToFit, toInputTensor, type RgbaImage } from "./image/preprocess.js";
import { resizeBilinear } from "./kernels/resize-bilinear.js";
import type { CpuConv, CpuOptions, Tensor } from "./kernels/kernel.js";
import { simdAvailable } from "./kernels/conv2d-simd.js";
import { createGpuContext, type Precision } from "./webgl/context.js";
import { planMagnify, toRgbaImage, type MagnifyOptions } from "./apps/magnify.js";
import { segmentMap, thresholdMask, type BlurMask, type Segmentation, type SegmentOptions } from "./apps/segment.js";
import { bindWeights, type WeightsFile } from "./weights/bind.js";
import type { Normalisation } from "./weights/metadata.js";

export type Backend = "webgl" | "cpu";
export type ModelKind = "dbm" | "purohit";

/** The smallest image side each model takes: DBM's four 2×2 pools, Purohit's one 30×30 patch. */
export const MINIMUM_SIDE: Readonly<Record<ModelKind, number>> = { dbm: 16, purohit: 30 };

export interface ModelOptions {
  /** "webgl" or "cpu" (anywhere). loadModel picks "webgl" where the page or worker can make a canvas, else "cpu". */
  readonly backend?: Backend;
  /**
   * CPU only: how convolutions are computed. "simd" (the default where the engine
   * has WebAssembly SIMD) is many times faster; "reference" is the plain-TypeScript
   * loops every other path is checked against. They agree within float32 rounding.
   */
  readonly cpuConv?: CpuConv;
  /** Canvas for the WebGL context; an OffscreenCanvas is made when omitted. */
  readonly canvas?: HTMLCanvasElement | OffscreenCanvas;
  /**
   * WebGL only: "fp32" (default; matches the CPU reference to ~1e-5) or "fp16"
   * (half-float textures: half the GPU memory and bandwidth; maps within 1e-2).
   */
  readonly precision?: Precision;
  /** Purohit only: step between 30×30 patches in pixels (default 15). */
  readonly patchStride?: number;
  /**
   * Images whose long side exceeds this are shrunk to it before the network, and
   * the map is scaled back to the image's size (default 640: the scale the
   * shipped weights were trained at, and a bounded cost). 0 = always native size.
   */
  readonly workingSize?: number;
  /**
   * The longest side, in pixels, the network runs on in one pass (default 2048).
   * A bigger image (at its working size) runs as overlapping tiles, with the
   * same map as one pass (graph/tiling.ts); on WebGL, tiles also shrink until
   * their textures fit the GPU's MAX_TEXTURE_SIZE. Lower it to need less GPU
   * memory: a 2048² DBM tile takes about 3.7 GB of textures in fp32, 1.9 GB in
   * fp16; 1024², about a quarter of that. 0 = never tile.
   */
  readonly tileSize?: number;
}

/** ModelOptions.tileSize's default: the largest DBM tile whose textures fit 8192 texels a side. */
export const DEFAULT_TILE_SIZE = 2048;

/** A per-pixel blur map the size of the input image; 1 = blurred, 0 = sharp. */
export interface BlurMap {
  readonly width: number;
  readonly height: number;
  readonly data: Float32Array;
}

/** What to do with an image: one call shape for the CLI, the demo page and the headless-Chromium bridge. */
export type Job =
  | { readonly task: "map" }
  | { readonly task: "segment"; readonly options?: SegmentOptions }
  | { readonly task: "magnify"; readonly options?: MagnifyOptions };

export interface JobResult {
  readonly map: BlurMap;
  /** segment: 1 = blurred. */
  readonly mask?: BlurMask;
  /** magnify: the photo with the blurred regions blurred more. */
  readonly image?: RgbaImage;
}

export function runJob(model: BlurMapModel, image: RgbaImage, job: Job): JobResult {
  if (job.task === "segment") return model.segment(image, job.options);
  if (job.task === "magnify") return model.magnify(image, job.options);
  if (job.task === "map") return { map: model.run(image).map };
  throw new Error(`blurmap: unknown task "${(job as { task: string }).task}" (expected map, segment or magnify)`);
}

/** A one-channel tensor [1, h, w, 1] at the image's size (unchanged when it already is). */
function resizeTo(t: Tensor, image: RgbaImage): Tensor {
  if (t.shape[1] === image.height && t.shape[2] === image.width) return t;
  return resizeBilinear.cpu([t], { height: image.height, width: image.width }, {});
}

const NO_PARAMS: BoundParams = new Map();

/** Blur degree S of an image (DBM §V-A): the mean of its map; 1 = all blurred. */
export function blurDegree(map: BlurMap): number {
  let sum = 0;
  for (const v of map.data) sum += v;
  return sum / map.data.length;
}

export interface RunResult {
  readonly map: BlurMap;
  /** Intermediate tensors asked for with `keep`, NHWC. */
  readonly tensors: ReadonlyMap<string, Tensor>;
}

export class BlurMapModel {
  readonly kind: ModelKind;
  readonly backend: Backend;
  /** Each weights file's provenance text, by model name. */
  readonly provenance: Readonly<Record<string, string>>;
  private readonly files: Map<string, WeightsFile>;
  private readonly normalisation: Normalisation;
  private readonly patchStride: number;
  private readonly workingSize: number;
  private readonly tileSize: number;
  /** Where this model's graph is cut for tiles, and the context each cell needs (graph/tiling.ts). */
  readonly tiling: TilingRule;
  private readonly graphs = new Map<string, { graph: Graph; params: BoundParams }>();
  private readonly cpu: CpuOptions;
  private executor: WebGLExecutor | null = null;
  private disposed = false;

  constructor(files: readonly WeightsFile[], opts: ModelOptions = {}) {
    this.files = new Map(files.map((f) => [f.info.model, f]));
    if (this.files.size !== files.length) throw new Error(`blurmap: two weights files for the same model (${files.map((f) => f.name).join(", ")})`);
    const models = [...this.files.keys()].sort().join(" + ");
    if (models === DBM_FILE) this.kind = "dbm";
    else if (models === `${PATCH_FILE} + ${UNET_FILE}`) this.kind = "purohit";
    else throw new Error(`blurmap: weights for "${models}" make no model; give one "dbm" file, or one "purohit-patch" and one "purohit-unet" file`);
    this.normalisation = files[0].info.normalisation;
    for (const f of files)
      if (f.info.normalisation.mean.some((m, i) => m !== this.normalisation.mean[i] || f.info.normalisation.std[i] !== this.normalisation.std[i]))
        throw new Error(`blurmap: ${f.name} normalises its input differently from ${files[0].name}`);
    this.provenance = Object.fromEntries(files.map((f) => [f.info.model, f.info.provenance]));
    this.patchStride = opts.patchStride ?? 15;
    if (!Number.isSafeInteger(this.patchStride) || this.patchStride < 1) throw new Error(`blurmap: patchStride must be a positive integer, got ${opts.patchStride}`);
    this.workingSize = opts.workingSize ?? 640;
    if (!(Number.isSafeInteger(this.workingSize) && this.workingSize >= 0)) throw new Error(`blurmap: workingSize must be a whole number of pixels (0 = native), got ${opts.workingSize}`);
    this.tiling = this.kind === "dbm" ? DBM_TILING : purohitTiling(this.patchStride);
    this.tileSize = opts.tileSize ?? DEFAULT_TILE_SIZE;
    const minimumTile = minimumTileSize(this.tiling);
    if (!(Number.isSafeInteger(this.tileSize) && (this.tileSize === 0 || this.tileSize >= minimumTile)))
      throw new Error(`blurmap: tileSize must be 0 (never tile) or a whole number of pixels ≥ ${minimumTile} (the context ${this.kind} needs around each tile), got ${opts.tileSize}`);
    this.backend = opts.backend ?? "cpu";
    const precision = opts.precision ?? "fp32";
    if (precision !== "fp32" && precision !== "fp16") throw new Error(`blurmap: precision must be "fp32" or "fp16", got "${precision}"`);
    const conv = opts.cpuConv ?? (simdAvailable() ? "simd" : "reference");
    if (conv !== "simd" && conv !== "reference") throw new Error(`blurmap: cpuConv must be "simd" or "reference", got "${conv}"`);
    if (conv === "simd" && !simdAvailable()) throw new Error('blurmap: cpuConv "simd" needs WebAssembly SIMD, which this JavaScript engine lacks; use "reference"');
    this.cpu = { conv };
    if (this.backend === "webgl") this.executor = new WebGLExecutor(createGpuContext(opts.canvas), precision);
    else if (this.backend !== "cpu") throw new Error(`blurmap: unknown backend "${this.backend}" (expected "webgl" or "cpu")`);
  }

  /** The graph this model runs on an image of the given size. */
  graph(height: number, width: number): { graph: Graph; params: BoundParams } {
    const key = `${height}x${width}`;
    let entry = this.graphs.get(key);
    if (!entry) {
      let graph: Graph;
      try {
        graph =
          this.kind === "dbm"
            ? buildDbm(height, width, this.arch<DbmArchitecture>(DBM_FILE))
            : buildPurohit(height, width, this.arch<PatchNetArchitecture>(PATCH_FILE), this.arch<UNetArchitecture>(UNET_FILE), { patchStride: this.patchStride });
      } catch (e) {
        const minimum = this.kind === "dbm" ? "16×16 (four 2×2 pools)" : "30×30 (one patch)";
        throw new Error(`blurmap: ${this.kind} cannot run on a ${width}×${height} image; it needs at least ${minimum}. (${(e as Error).message})`);
      }
      // Bound weights are the same for every size: bind once, reuse.
      const first = this.graphs.values().next().value;
      entry = { graph, params: first ? first.params : bindWeights(graph, this.files) };
      this.graphs.set(key, entry);
    }
    return entry;
  }

  /** Blur map of an RGBA image (ImageData, a decoded PNG/JPEG, or {width, height, data}). */
  run(image: RgbaImage, keep: readonly string[] = []): RunResult {
    const { smallMap, tensors } = this.runAtWorkingSize(image, keep);
    return { map: { width: image.width, height: image.height, data: resizeTo(smallMap, image).data }, tensors };
  }

  /**
   * Blur/sharp segmentation: the map, refined by the MRF (unaries from the map,
   * contrast-sensitive Potts terms from the image) at the network's working
   * size, then scaled back to the image. See apps/segment.ts for the solvers.
   */
  segment(image: RgbaImage, opts: SegmentOptions = {}): Segmentation {
    const { small, smallMap } = this.runAtWorkingSize(image, []);
    const started = performance.now();
    const probability = segmentMap(smallMap, small, opts, (graph, inputs) => this.runOnBackend(graph, NO_PARAMS, inputs));
    const ms = performance.now() - started;
    return { map: { width: image.width, height: image.height, data: resizeTo(smallMap, image).data }, mask: thresholdMask(resizeTo(probability, image), image), mrfMs: ms };
  }

  /**
   * Blur magnification: the photo with extra defocus where the map says it is
   * already blurred (see apps/magnify.ts). Returns the map and the new image.
   */
  magnify(image: RgbaImage, opts: MagnifyOptions = {}): { map: BlurMap; image: RgbaImage } {
    const { smallMap } = this.runAtWorkingSize(image, []);
    const map = resizeTo(smallMap, image);
    const { graph, params, inputs } = planMagnify(image, map, opts);
    let out: Tensor;
    try {
      out = this.runOnBackend(graph, params, inputs);
    } finally {
      this.executor?.release(params); // its Gaussian is made for this image's size
    }
    return { map: { width: image.width, height: image.height, data: map.data }, image: toRgbaImage(out, image) };
  }

  /** Runs a graph that is not the network (the MRF, magnification) on this model's backend; returns its output. */
  private runOnBackend(graph: Graph, params: BoundParams, inputs: Tensor[]): Tensor {
    return (this.executor ? this.executor.run(graph, params, inputs) : runCpu(graph, params, inputs, [], this.cpu)).get(graph.output)!;
  }

  /** The network's map at its working size (the image shrunk to workingSize, never below the model's minimum side). */
  private runAtWorkingSize(image: RgbaImage, keep: readonly string[]): { small: RgbaImage; smallMap: Tensor; tensors: Map<string, Tensor> } {
    if (this.disposed) throw new Error("blurmap: this model was disposed");
    checkImage(image);
    const minSide = MINIMUM_SIDE[this.kind];
    if (image.width < minSide || image.height < minSide)
      throw new Error(`blurmap: ${this.kind} needs an image at least ${minSide}×${minSide} pixels; this one is ${image.width}×${image.height}`);
    const small = this.workingSize > 0 ? shrinkToFit(image, this.workingSize, minSide) : image;
    const input = toInputTensor(small, this.normalisation);
    const { graph, params } = this.graph(small.height, small.width);
    const tileSide = this.tileSide(small.height, small.width);
    if (tileSide === 0) {
      const tensors = this.executor ? this.runOnGpu(graph, params, [input], keep, small) : runCpu(graph, params, [input], keep, this.cpu);
      return { small, smallMap: tensors.get(graph.output)!, tensors };
    }
    if (keep.length > 0)
      throw new Error(`blurmap: intermediate tensors (${keep.join(", ")}) are not kept when the image is tiled (${small.width}×${small.height} at working size, tiles of ${tileSide} px); a tileSize of 0 runs it in one pass`);
    const smallMap = runTiled(graph, (h, w) => this.graph(h, w).graph, this.tiling, input, tileSide, (g, inputs) =>
      this.executor ? this.runOnGpu(g, params, inputs, [], small).get(g.output)! : runCpu(g, params, inputs, [], this.cpu).get(g.output)!,
    );
    return { small, smallMap, tensors: new Map([[graph.output, smallMap]]) };
  }

  /** The side of the tiles an image of this size runs as on this backend, or 0 to run it in one pass. */
  private tileSide(height: number, width: number): number {
    const maxTexture = this.executor?.ctx.maxTextureSize ?? Infinity;
    return chooseTileSide(height, width, this.tileSize, this.tiling, (h, w) => fitsTextures(this.graph(h, w).graph, maxTexture));
  }

  private runOnGpu(graph: Graph, params: BoundParams, inputs: readonly Tensor[], keep: readonly string[], image: RgbaImage): Map<string, Tensor> {
    try {
      return this.executor!.run(graph, params, inputs, keep);
    } catch (e) {
      const message = (e as Error).message;
      if (!message.includes("MAX_TEXTURE_SIZE")) throw e;
      // Tiles are always sized to fit (tileSide): with tiling on, what does not fit is the full-size map.
      const fix = this.tileSize === 0 ? "a smaller workingSize (the default is 640), or tiles (tileSize, 0 here)," : "a smaller workingSize (the default is 640)";
      throw new Error(`${message}. The network ran this image at ${image.width}×${image.height}; ${fix} keeps it within the GPU's limits`);
    }
  }

  /** Frees every GPU object this model made. The model cannot run afterwards. */
  dispose(): void {
    this.executor?.dispose();
    this.executor = null;
    this.graphs.clear();
    this.disposed = true;
  }

  /** Where it runs: the GL renderer string on "webgl"; on the CPU, "cpu (simd)" or "cpu (reference)". */
  get device(): string {
    return this.executor ? this.executor.ctx.renderer : `cpu (${this.cpu.conv})`;
  }

  /** GL objects held (0 on the CPU backend); for leak checks. */
  glObjectCounts(): { textures: number; framebuffers: number; programs: number; activationBytes: number; weightBytes: number } {
    return this.executor?.counts() ?? { textures: 0, framebuffers: 0, programs: 0, activationBytes: 0, weightBytes: 0 };
  }

  /** The architecture a weights file declares (readModelInfo has checked it matches the model name). */
  private arch<T>(model: string): T {
    return this.files.get(model)!.info.architecture as T;
  }
}
