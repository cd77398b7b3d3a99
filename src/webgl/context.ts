/**
 * WebGL2 plumbing: context creation with the checks blurmap needs, float
 * textures, framebuffers, readback and a shader cache. Thin and stateless in
 * the manner of twgl.js, which does the actual GL calls.
 */
import * as twgl from "twgl.js";
import { VERTEX_SHADER } from "../kernels/prelude.js";

export interface GpuContext {
  readonly gl: WebGL2RenderingContext;
  readonly maxTextureSize: number;
  /** Textures one pass can draw into at once (WebGL2 guarantees 4). */
  readonly maxDrawBuffers: number;
  /** The GL renderer string (e.g. "ANGLE (Google, Vulkan 1.3.0 (SwiftShader ...))"). */
  readonly renderer: string;
}

export function createGpuContext(canvas?: HTMLCanvasElement | OffscreenCanvas): GpuContext {
  const target = canvas ?? (typeof OffscreenCanvas !== "undefined" ? new OffscreenCanvas(1, 1) : document.createElement("canvas"));
  const gl = target.getContext("webgl2", { antialias: false, depth: false, stencil: false, premultipliedAlpha: false, preserveDrawingBuffer: false }) as WebGL2RenderingContext | null;
  if (!gl) throw new Error("blurmap: this browser gives no WebGL2 context (use the 'cpu' backend instead)");
  enableFloatRendering(gl);
  const debug = gl.getExtension("WEBGL_debug_renderer_info");
  const renderer = String(gl.getParameter(debug ? debug.UNMASKED_RENDERER_WEBGL : gl.RENDERER));
  const maxDrawBuffers = Math.min(gl.getParameter(gl.MAX_DRAW_BUFFERS) as number, gl.getParameter(gl.MAX_COLOR_ATTACHMENTS) as number);
  return { gl, maxTextureSize: gl.getParameter(gl.MAX_TEXTURE_SIZE) as number, maxDrawBuffers, renderer };
}

/** Float render targets need this extension, enabled again after every context restore. */
export function enableFloatRendering(gl: WebGL2RenderingContext): void {
  if (!gl.getExtension("EXT_color_buffer_float"))
    throw new Error("blurmap: WebGL2 here lacks EXT_color_buffer_float, so float textures cannot be rendered to (use the 'cpu' backend instead)");
}

/**
 * "fp32": RGBA32F textures, results match the CPU reference to ~1e-5.
 * "fp16": RGBA16F storage (weights and activations; arithmetic stays fp32 in
 * the shaders): half the memory and texture bandwidth, ~3 significant digits.
 */
export type Precision = "fp32" | "fp16";

export function createFloatTexture(ctx: GpuContext, width: number, height: number, data: Float32Array | null = null, what = "texture", precision: Precision = "fp32"): WebGLTexture {
  if (width > ctx.maxTextureSize || height > ctx.maxTextureSize)
    throw new Error(`blurmap: ${what} needs a ${width}×${height} texture, over this GPU's MAX_TEXTURE_SIZE of ${ctx.maxTextureSize}`);
  const { gl } = ctx;
  return twgl.createTexture(gl, {
    target: gl.TEXTURE_2D,
    // Float data uploads into a half-float texture too: the driver converts.
    internalFormat: precision === "fp16" ? gl.RGBA16F : gl.RGBA32F,
    format: gl.RGBA,
    type: gl.FLOAT,
    width,
    height,
    src: data ?? new Float32Array(width * height * 4),
    minMag: gl.NEAREST,
    wrap: gl.CLAMP_TO_EDGE,
    auto: false,
  });
}

export function uploadTexture(ctx: GpuContext, texture: WebGLTexture, width: number, height: number, data: Float32Array): void {
  const { gl } = ctx;
  gl.bindTexture(gl.TEXTURE_2D, texture);
  gl.texSubImage2D(gl.TEXTURE_2D, 0, 0, 0, width, height, gl.RGBA, gl.FLOAT, data);
}

/** A framebuffer drawing into `textures` (draw buffer k = textures[k]). */
export function createFramebuffer(ctx: GpuContext, ...textures: WebGLTexture[]): WebGLFramebuffer {
  const { gl } = ctx;
  if (textures.length > ctx.maxDrawBuffers) throw new Error(`blurmap: ${textures.length} draw buffers asked for, this GPU has ${ctx.maxDrawBuffers}`);
  const fb = gl.createFramebuffer();
  gl.bindFramebuffer(gl.FRAMEBUFFER, fb);
  textures.forEach((t, k) => gl.framebufferTexture2D(gl.FRAMEBUFFER, gl.COLOR_ATTACHMENT0 + k, gl.TEXTURE_2D, t, 0));
  gl.drawBuffers(textures.map((_, k) => gl.COLOR_ATTACHMENT0 + k));
  const status = gl.checkFramebufferStatus(gl.FRAMEBUFFER);
  if (status !== gl.FRAMEBUFFER_COMPLETE) throw new Error(`blurmap: float framebuffer incomplete (status 0x${status.toString(16)})`);
  return fb;
}

/** Reads a whole RGBA32F framebuffer back to the CPU. */
export function readFramebuffer(ctx: GpuContext, fb: WebGLFramebuffer, width: number, height: number): Float32Array {
  const { gl } = ctx;
  gl.bindFramebuffer(gl.FRAMEBUFFER, fb);
  const out = new Float32Array(width * height * 4);
  gl.readPixels(0, 0, width, height, gl.RGBA, gl.FLOAT, out);
  return out;
}

/** Compiles each fragment shader once; a compile or link failure throws with the driver's log. */
export class ProgramCache {
  private readonly programs = new Map<string, twgl.ProgramInfo>();

  constructor(private readonly ctx: GpuContext) {}

  get(key: string, fragmentSource: () => string): twgl.ProgramInfo {
    let info = this.programs.get(key);
    if (!info) {
      const errors: string[] = [];
      const created = twgl.createProgramInfo(this.ctx.gl, [VERTEX_SHADER, fragmentSource()], { errorCallback: (msg: string) => errors.push(msg) });
      if (!created) throw new Error(`blurmap: shader "${key}" failed to build:\n${errors.join("\n")}`);
      // A linked program keeps its code: the shader objects would only leak.
      const { gl } = this.ctx;
      for (const shader of gl.getAttachedShaders(created.program) ?? []) {
        gl.detachShader(created.program, shader);
        gl.deleteShader(shader);
      }
      info = created;
      this.programs.set(key, info);
    }
    return info;
  }

  get size(): number {
    return this.programs.size;
  }

  dispose(): void {
    for (const info of this.programs.values()) this.ctx.gl.deleteProgram(info.program);
    this.programs.clear();
  }

  /** After a context loss: the programs are gone with it; drop them without GL calls. */
  forget(): void {
    this.programs.clear();
  }
}
