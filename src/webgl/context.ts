/**
 * WebGL2 plumbing: context creation with the checks blurmap needs, float
 * textures, framebuffers, readback and a shader cache. Thin and stateless in
 * the manner of twgl.js, which sets the uniforms and texture parameters.
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
  /** A CPU renderer (SwiftShader, llvmpipe): its costs differ from a GPU's (see the executor's weight storage). */
  readonly software: boolean;
}

export function createGpuContext(canvas?: HTMLCanvasElement | OffscreenCanvas): GpuContext {
  const target = canvas ?? (typeof OffscreenCanvas !== "undefined" ? new OffscreenCanvas(1, 1) : document.createElement("canvas"));
  const gl = target.getContext("webgl2", { antialias: false, depth: false, stencil: false, premultipliedAlpha: false, preserveDrawingBuffer: false }) as WebGL2RenderingContext | null;
  if (!gl) throw new Error("blurmap: this browser gives no WebGL2 context (use the 'cpu' backend instead)");
  enableFloatRendering(gl);
  const debug = gl.getExtension("WEBGL_debug_renderer_info");
  const renderer = String(gl.getParameter(debug ? debug.UNMASKED_RENDERER_WEBGL : gl.RENDERER));
  const maxDrawBuffers = Math.min(gl.getParameter(gl.MAX_DRAW_BUFFERS) as number, gl.getParameter(gl.MAX_COLOR_ATTACHMENTS) as number);
  const software = /swiftshader|llvmpipe|softpipe|software/i.test(renderer);
  return { gl, maxTextureSize: gl.getParameter(gl.MAX_TEXTURE_SIZE) as number, maxDrawBuffers, renderer, software };
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
  const format = precision === "fp16" ? "RGBA16F" : "RGBA32F";
  while (gl.getError() !== gl.NO_ERROR); // so that the check below sees this allocation's error alone
  // Immutable storage, and no zeros uploaded for a texture that is only drawn
  // into: a 1024² DBM activation is 256 MiB that would cross to the GPU for nothing.
  const texture = gl.createTexture()!;
  gl.bindTexture(gl.TEXTURE_2D, texture);
  twgl.setTextureParameters(gl, texture, { target: gl.TEXTURE_2D, minMag: gl.NEAREST, wrap: gl.CLAMP_TO_EDGE });
  gl.texStorage2D(gl.TEXTURE_2D, 1, gl[format], width, height);
  // Float data uploads into a half-float texture too: the driver converts.
  if (data) gl.texSubImage2D(gl.TEXTURE_2D, 0, 0, 0, width, height, gl.RGBA, gl.FLOAT, data);
  const error = gl.getError();
  if (error !== gl.NO_ERROR) {
    gl.deleteTexture(texture);
    const mib = (width * height * (precision === "fp16" ? 8 : 16)) / 2 ** 20;
    throw new Error(`blurmap: the GPU could not allocate ${what}: a ${width}×${height} ${format} texture (${mib.toFixed(0)} MiB), GL error 0x${error.toString(16)}${error === gl.OUT_OF_MEMORY ? " (out of memory)" : ""}. A smaller workingSize or tileSize, or precision "fp16", needs less`);
  }
  return texture;
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
  if (status !== gl.FRAMEBUFFER_COMPLETE) {
    gl.deleteFramebuffer(fb);
    throw new Error(`blurmap: this GPU cannot render into ${textures.length} float texture(s) at once (framebuffer status 0x${status.toString(16)})`);
  }
  return fb;
}

function compileShader(gl: WebGL2RenderingContext, type: number, source: string): WebGLShader {
  const shader = gl.createShader(type)!;
  gl.shaderSource(shader, source);
  gl.compileShader(shader);
  return shader;
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
  /** One vertex shader serves every program (all passes draw the same full-screen triangle). */
  private vertexShader: WebGLShader | null = null;

  constructor(private readonly ctx: GpuContext) {}

  get(key: string, fragmentSource: () => string): twgl.ProgramInfo {
    this.prepare([{ key, source: fragmentSource }]);
    return this.programs.get(key)!;
  }

  /**
   * Builds every program not built yet, starting all their compiles and links
   * before asking how any of them went: asking blocks, so asking only at the
   * end lets the browser build them side by side (KHR_parallel_shader_compile,
   * or its GPU process's own threads) rather than one after another.
   */
  prepare(programs: Iterable<{ key: string; source: () => string }>): void {
    const { gl } = this.ctx;
    const started = new Map<string, { program: WebGLProgram; fragment: WebGLShader }>();
    for (const { key, source } of programs) {
      if (this.programs.has(key) || started.has(key)) continue;
      this.vertexShader ??= compileShader(gl, gl.VERTEX_SHADER, VERTEX_SHADER);
      const fragment = compileShader(gl, gl.FRAGMENT_SHADER, source());
      const program = gl.createProgram()!;
      gl.attachShader(program, this.vertexShader);
      gl.attachShader(program, fragment);
      gl.linkProgram(program);
      started.set(key, { program, fragment });
    }
    let failure: string | null = null;
    for (const [key, { program, fragment }] of started) {
      const linked = gl.getProgramParameter(program, gl.LINK_STATUS) as boolean;
      if (!linked) failure ??= `blurmap: shader "${key}" failed to build:\n${gl.getShaderInfoLog(fragment) || gl.getProgramInfoLog(program)}`;
      // A linked program keeps its code: the shader objects would only leak.
      gl.detachShader(program, fragment);
      gl.detachShader(program, this.vertexShader!);
      gl.deleteShader(fragment);
      if (linked) this.programs.set(key, twgl.createProgramInfoFromProgram(gl, program));
      else gl.deleteProgram(program);
    }
    if (failure) throw new Error(failure);
  }

  get size(): number {
    return this.programs.size;
  }

  dispose(): void {
    for (const info of this.programs.values()) this.ctx.gl.deleteProgram(info.program);
    this.programs.clear();
    if (this.vertexShader) this.ctx.gl.deleteShader(this.vertexShader);
    this.vertexShader = null;
  }

  /** After a context loss: the programs are gone with it; drop them without GL calls. */
  forget(): void {
    this.programs.clear();
    this.vertexShader = null;
  }
}
