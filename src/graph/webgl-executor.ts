/**
 * Runs a graph as WebGL2 fragment passes. Per node: pick (or compile) the
 * op's shader variant, bind its inputs and packed weights, draw one triangle
 * into the output tensor's texture. A pass that computes several neighbouring
 * pixels per fragment (conv2d) draws into that many scratch textures at once,
 * then an interleave pass fills the output. Textures come from planTextures()
 * and are pooled across runs; only the tensors asked for are read back.
 */
import * as twgl from "twgl.js";
import { kernelFor } from "../kernels/index.js";
import { interleaveColumns } from "../kernels/interleave-columns.js";
import type { Blocking, Kernel, Params, Tensor, UniformValue } from "../kernels/kernel.js";
import { packTexture, textureLayout, unpackTexture, type Shape, type TextureLayout } from "../kernels/layout.js";
import { fragmentShader } from "../kernels/prelude.js";
import { createFloatTexture, createFramebuffer, enableFloatRendering, ProgramCache, readFramebuffer, uploadTexture, type GpuContext, type Precision } from "../webgl/context.js";
import { exactInHalf } from "../weights/fp16.js";
import { checkInputs, type BoundParams } from "./cpu-executor.js";
import type { Graph, Node } from "./ir.js";
import { blockedShape, planBlocked, smallestFitting } from "./plan.js";

interface PooledTexture {
  readonly id: number;
  readonly texture: WebGLTexture;
  readonly framebuffer: WebGLFramebuffer;
  readonly width: number;
  readonly height: number;
  /** The run that last used it: textures idle for POOL_IDLE_RUNS runs are freed. */
  lastRun: number;
}

/**
 * Runs an activation texture may sit unused before it is freed. Two, so that a
 * caller alternating two graphs (a network, then its MRF) keeps both sets,
 * while a batch of different image sizes does not pile up textures.
 */
const POOL_IDLE_RUNS = 2;

const BYTES_PER_TEXEL: Record<Precision, number> = { fp32: 16, fp16: 8 };

export class WebGLExecutor {
  private readonly programs: ProgramCache;
  private readonly pool: PooledTexture[] = [];
  /** Packed weights, per params object, per node and input shape. */
  private readonly weights = new Map<Params, Map<string, Record<string, WebGLTexture>>>();
  /** Framebuffers over several pool textures (register-blocked passes), by their ids. */
  private readonly multiTargets = new Map<string, { framebuffer: WebGLFramebuffer; ids: number[] }>();
  private textureIds = 0;
  private runs = 0;
  private readonly weightBytes = new WeakMap<WebGLTexture, number>();

  constructor(
    readonly ctx: GpuContext,
    readonly precision: Precision = "fp32",
  ) {
    this.programs = new ProgramCache(ctx);
    // A lost context (GPU reset, too many contexts) takes every GL object with it.
    // preventDefault lets the browser restore the context; then everything is remade on demand.
    const canvas = ctx.gl.canvas as EventTarget;
    canvas.addEventListener("webglcontextlost", (e) => e.preventDefault());
    canvas.addEventListener("webglcontextrestored", () => this.forgetLostObjects());
  }

  /**
   * Returns the graph output and every tensor named in `keep`. `profile`, for
   * benchmarks, is told each node's time; to measure it the executor waits for
   * the GPU after every pass (a one-texel readback), which costs a little.
   */
  run(graph: Graph, params: BoundParams, inputs: readonly Tensor[], keep: readonly string[] = [], profile?: (node: Node, ms: number) => void): Map<string, Tensor> {
    this.checkContext();
    const result = this.runPasses(graph, params, inputs, keep, profile);
    // A context lost during the run makes reads return zeros: never hand those back as a map.
    this.checkContext();
    return result;
  }

  private checkContext(): void {
    if (this.ctx.gl.isContextLost())
      throw new Error("blurmap: the WebGL context was lost (GPU reset or too many contexts); this run failed. Run again once the browser restores it (webglcontextrestored).");
  }

  private forgetLostObjects(): void {
    enableFloatRendering(this.ctx.gl); // extensions are lost with the context
    this.pool.length = 0;
    this.multiTargets.clear();
    this.weights.clear();
    this.programs.forget();
  }

  private runPasses(graph: Graph, params: BoundParams, inputs: readonly Tensor[], keep: readonly string[], profile?: (node: Node, ms: number) => void): Map<string, Tensor> {
    checkInputs(graph, inputs);
    for (const t of keep) if (!graph.shapes.has(t)) throw new Error(`no tensor named "${t}" in the graph`);
    const wanted = new Map(graph.nodes.map((node) => [node.name, this.blockingOf(graph, node)]));
    const { blocking, plan } = planBlocked(graph, keep, wanted);
    // Every shader the graph needs, compiled side by side before the first pass.
    this.programs.prepare(graph.nodes.flatMap((node) => programsOf(graph, node, blocking.get(node.name)!)));
    const run = ++this.runs;
    this.freeIdleTextures(run);
    const free = [...this.pool];
    // Scratch slots take textures of exactly their size: they are drawn into together.
    const scratchSlots = new Set([...plan.scratchOf.values()].flat());
    const slotTextures = plan.slots.map(({ width, height }, slot) => {
      const i = scratchSlots.has(slot) ? free.findIndex((t) => t.width === width && t.height === height) : smallestFitting(free, width, height);
      const pooled = i >= 0 ? free.splice(i, 1)[0] : this.newPooledTexture(width, height);
      pooled.lastRun = run;
      return pooled;
    });
    const textureOf = (t: string) => slotTextures[plan.slotOf.get(t)!];
    const scratchOf = (node: Node) => (plan.scratchOf.get(node.name) ?? []).map((slot) => slotTextures[slot]);

    graph.inputs.forEach((name, i) => {
      const layout = textureLayout(inputs[i].shape);
      uploadTexture(this.ctx, textureOf(name).texture, layout.width, layout.height, packTexture(inputs[i].data, layout));
    });
    if (!profile) for (const node of graph.nodes) this.runNode(graph, node, params.get(node.name), textureOf, blocking.get(node.name)!, scratchOf(node));
    else {
      // A node packs and uploads its weights on its first run: profile an executor that has run the graph before.
      this.waitForGpu(textureOf(graph.inputs[0]).framebuffer);
      for (const node of graph.nodes) {
        const started = performance.now();
        this.runNode(graph, node, params.get(node.name), textureOf, blocking.get(node.name)!, scratchOf(node));
        this.waitForGpu(textureOf(node.name).framebuffer);
        profile(node, performance.now() - started);
      }
    }

    return new Map([...new Set([...keep, graph.output])].map((t) => {
      const layout = textureLayout(graph.shapes.get(t)!);
      const texels = readFramebuffer(this.ctx, textureOf(t).framebuffer, layout.width, layout.height);
      return [t, { shape: layout.shape, data: unpackTexture(texels, layout) }];
    }));
  }

  /** Blocks until the GPU has finished writing `fb` (reads one texel back). */
  private waitForGpu(fb: WebGLFramebuffer): void {
    readFramebuffer(this.ctx, fb, 1, 1);
  }

  private newPooledTexture(width: number, height: number): PooledTexture {
    const texture = createFloatTexture(this.ctx, width, height, null, "an activation", this.precision);
    const pooled = { id: ++this.textureIds, texture, framebuffer: createFramebuffer(this.ctx, texture), width, height, lastRun: 0 };
    this.pool.push(pooled);
    return pooled;
  }

  private freeIdleTextures(run: number): void {
    const { gl } = this.ctx;
    for (const p of this.pool.filter((p) => run - p.lastRun > POOL_IDLE_RUNS)) {
      for (const [key, m] of this.multiTargets)
        if (m.ids.includes(p.id)) {
          gl.deleteFramebuffer(m.framebuffer);
          this.multiTargets.delete(key);
        }
      gl.deleteFramebuffer(p.framebuffer);
      gl.deleteTexture(p.texture);
      this.pool.splice(this.pool.indexOf(p), 1);
    }
  }

  /** Frees the packed weights of `params` (weights made for one run, like magnify's Gaussian). */
  release(params: BoundParams): void {
    for (const p of params.values()) {
      const byNode = this.weights.get(p);
      if (!byNode) continue;
      for (const t of byNode.values()) for (const tex of Object.values(t)) this.ctx.gl.deleteTexture(tex);
      this.weights.delete(p);
    }
  }

  /** A node's register blocking: what its kernel asks, within the GPU's draw buffers; null for one pixel per fragment. */
  private blockingOf(graph: Graph, node: Node): Blocking | null {
    const b = kernelFor(node.op).gpu.blocking?.(node.attrs, node.inputs.map((t) => graph.shapes.get(t)!), graph.shapes.get(node.name)!);
    const pixels = Math.min(b?.pixels ?? 1, this.ctx.maxDrawBuffers);
    return b && pixels > 1 ? { ...b, pixels } : null;
  }

  private runNode(
    graph: Graph,
    node: Node,
    params: Params | undefined,
    textureOf: (t: string) => PooledTexture,
    blocking: Blocking | null,
    scratch: readonly PooledTexture[],
  ): void {
    const kernel = kernelFor(node.op);
    const inputShapes = node.inputs.map((t) => graph.shapes.get(t)!);
    const outShape = graph.shapes.get(node.name)!;
    const inputs = node.inputs.map((t, i) => ({ texture: textureOf(t).texture, layout: textureLayout(inputShapes[i]) }));
    const weights = this.packedWeights(node, params, inputShapes);
    const out = textureOf(node.name).framebuffer;
    if (!blocking) return this.draw(kernel, node.attrs, 1, inputs, weights, textureLayout(outShape), out);
    // Register blocking: the pass writes pixel k of each block into scratch
    // texture k, and a second pass interleaves them into the output.
    const blocked = textureLayout(blockedShape(outShape, blocking), scratch[0].width);
    this.draw(kernel, node.attrs, blocking.pixels, inputs, weights, blocked, this.multiTargetFramebuffer(scratch));
    const blockedInputs = scratch.map(({ texture }) => ({ texture, layout: blocked }));
    this.draw(interleaveColumns, interleaveAttrs(outShape, blocking), 1, blockedInputs, {}, textureLayout(outShape), out);
  }

  /**
   * One fragment pass: `kernel`'s shader (compiled once per variant) over the
   * texels of `outLayout`, with its uniforms, the per-tensor shape uniforms and
   * its packed weights.
   */
  private draw<A>(
    kernel: Kernel<A>,
    attrs: A,
    pixels: number,
    inputs: readonly { texture: WebGLTexture; layout: TextureLayout }[],
    weights: Record<string, WebGLTexture>,
    outLayout: TextureLayout,
    framebuffer: WebGLFramebuffer,
  ): void {
    const { gl } = this.ctx;
    const { key, source } = programOf(kernel, attrs, inputs.length, pixels);
    const program = this.programs.get(key, source);
    const uniforms: Record<string, UniformValue | WebGLTexture> = {
      u_out_shape: outLayout.shape,
      u_out_cols: outLayout.cols,
      ...kernel.gpu.uniforms?.(attrs, inputs.map((i) => i.layout.shape), outLayout.shape),
      ...weights,
    };
    inputs.forEach(({ texture, layout }, i) => {
      uniforms[`u_in${i}`] = texture;
      uniforms[`u_in${i}_shape`] = layout.shape;
      uniforms[`u_in${i}_cols`] = layout.cols;
    });
    gl.bindFramebuffer(gl.FRAMEBUFFER, framebuffer);
    gl.viewport(0, 0, outLayout.width, outLayout.height);
    gl.useProgram(program.program);
    twgl.setUniforms(program, uniforms);
    gl.drawArrays(gl.TRIANGLES, 0, 3);
  }

  /** A framebuffer drawing into several pooled textures at once (draw buffer k = textures[k]), made once per combination. */
  private multiTargetFramebuffer(textures: readonly PooledTexture[]): WebGLFramebuffer {
    const key = textures.map((t) => t.id).join(",");
    let entry = this.multiTargets.get(key);
    if (!entry) {
      entry = { framebuffer: createFramebuffer(this.ctx, ...textures.map((t) => t.texture)), ids: textures.map((t) => t.id) };
      this.multiTargets.set(key, entry);
    }
    return entry.framebuffer;
  }

  private packedWeights(node: Node, params: Params | undefined, inputShapes: readonly Shape[]): Record<string, WebGLTexture> {
    const pack = kernelFor(node.op).gpu.pack;
    if (!pack) return {};
    if (!params) throw new Error(`blurmap: node "${node.name}" has no weights bound`);
    let byNode = this.weights.get(params);
    if (!byNode) this.weights.set(params, (byNode = new Map()));
    const key = `${node.name}/${inputShapes.map((s) => s.join("x")).join(",")}`;
    let textures = byNode.get(key);
    if (!textures) {
      textures = {};
      for (const [name, packed] of Object.entries(pack(params, node.attrs, inputShapes))) {
        // On a GPU, weights that half floats hold exactly (shipped fp16 weights with no
        // BatchNorm folded in) are stored as half floats in either precision: the same
        // values, and fewer bytes for the conv passes to read, which bounds them there.
        // Software renderers convert half floats in code: fp32 reads faster there.
        const precision = this.precision === "fp16" || (!this.ctx.software && exactInHalf(packed.data)) ? "fp16" : "fp32";
        textures[name] = createFloatTexture(this.ctx, packed.width, packed.height, packed.data, `the weights of "${node.name}"`, precision);
        this.weightBytes.set(textures[name], packed.width * packed.height * BYTES_PER_TEXEL[precision]);
      }
      byNode.set(key, textures);
    }
    return textures;
  }

  /** GL objects this executor holds now (for leak checks), and the bytes its textures take. */
  counts(): { textures: number; framebuffers: number; programs: number; activationBytes: number; weightBytes: number } {
    let weightTextures = 0;
    let weightBytes = 0;
    for (const byNode of this.weights.values())
      for (const t of byNode.values())
        for (const tex of Object.values(t)) {
          weightTextures++;
          weightBytes += this.weightBytes.get(tex) ?? 0;
        }
    const activationBytes = this.pool.reduce((sum, p) => sum + p.width * p.height * BYTES_PER_TEXEL[this.precision], 0);
    return {
      textures: this.pool.length + weightTextures,
      framebuffers: this.pool.length + this.multiTargets.size,
      programs: this.programs.size,
      activationBytes,
      weightBytes,
    };
  }

  dispose(): void {
    const { gl } = this.ctx;
    for (const p of this.pool) {
      gl.deleteFramebuffer(p.framebuffer);
      gl.deleteTexture(p.texture);
    }
    this.pool.length = 0;
    for (const m of this.multiTargets.values()) gl.deleteFramebuffer(m.framebuffer);
    this.multiTargets.clear();
    for (const byNode of this.weights.values()) for (const t of byNode.values()) for (const tex of Object.values(t)) gl.deleteTexture(tex);
    this.weights.clear();
    this.programs.dispose();
  }
}

/** A pass's shader, compiled once per kernel variant, input count and block size. */
function programOf<A>(kernel: Kernel<A>, attrs: A, inputCount: number, pixels: number): { key: string; source: () => string } {
  return {
    key: `${kernel.op}/${kernel.gpu.variant(attrs)}/${inputCount}/${pixels}`,
    source: () => fragmentShader(kernel.gpu.source(attrs, inputCount, pixels), inputCount, pixels),
  };
}

/** The shaders of a node's passes: its kernel's, and the interleave pass's when it is blocked. */
function programsOf(graph: Graph, node: Node, blocking: Blocking | null): { key: string; source: () => string }[] {
  const own = programOf(kernelFor(node.op), node.attrs, node.inputs.length, blocking?.pixels ?? 1);
  return blocking ? [own, programOf(interleaveColumns, interleaveAttrs(graph.shapes.get(node.name)!, blocking), blocking.pixels, 1)] : [own];
}

function interleaveAttrs(outShape: Shape, blocking: Blocking) {
  return { width: outShape[2], step: blocking.step };
}
