/**
 * The CPU path's fast convolution, in AssemblyScript compiled to WebAssembly
 * with 128-bit SIMD (tools/build-wasm.js; the JavaScript side is conv2d-simd.ts).
 *
 * All arrays are f32 in this module's memory, laid out by the caller:
 *   input   [rows][inWidth][cin]: a window of the input, already zero-padded,
 *           whose row r·sy + ky·dy and column x·sx + kx·dx feed output (r, x);
 *   weights [cout8 / 8][kh][kw][cin][8] (conv2d.ts blockWeights);
 *   bias    [cout8];
 *   output  [rows][outWidth][cout8].
 *
 * Register blocking: the inner loop keeps 4 output pixels × 8 output channels
 * in eight v128 accumulators, so one pair of weight loads feeds 4 pixels and
 * one input splat feeds 8 channels: 16 multiply-adds of 4 lanes per 6 loads.
 * No bounds checks: the caller's padding makes every tap land in the window.
 */

/** 4 output pixels at a time; the row's remainder goes one pixel at a time. */
const PIXELS = 4;

export function conv(
  input: usize, weights: usize, bias: usize, output: usize,
  rows: i32, outWidth: i32, inWidth: i32, cin: i32, cout8: i32,
  kh: i32, kw: i32, sy: i32, sx: i32, dy: i32, dx: i32,
  rectify: bool, slope: f32,
): void {
  const pixelBytes = <usize>(cin << 2);
  const rowBytes = <usize>inWidth * pixelBytes;
  const blockBytes = <usize>(kh * kw * cin) << 5;
  const pixelStep = <usize>sx * pixelBytes;
  const outPixelBytes = <usize>(cout8 << 2);
  for (let r = 0; r < rows; r++) {
    for (let ob = 0; ob < cout8 >> 3; ob++) {
      const block = weights + <usize>ob * blockBytes;
      const b0 = v128.load(bias + (<usize>ob << 5));
      const b1 = v128.load(bias + (<usize>ob << 5), 16);
      let x = 0;
      for (; x + PIXELS <= outWidth; x += PIXELS) {
        let a00 = b0, a01 = b1, a10 = b0, a11 = b1, a20 = b0, a21 = b1, a30 = b0, a31 = b1;
        let w = block;
        for (let ky = 0; ky < kh; ky++) {
          const inRow = input + <usize>(r * sy + ky * dy) * rowBytes;
          for (let kx = 0; kx < kw; kx++) {
            let p = inRow + <usize>(x * sx + kx * dx) * pixelBytes;
            const end = p + pixelBytes;
            for (; p < end; p += 4, w += 32) {
              const w0 = v128.load(w);
              const w1 = v128.load(w, 16);
              const v0 = v128.load32_splat(p);
              const v1 = v128.load32_splat(p + pixelStep);
              const v2 = v128.load32_splat(p + 2 * pixelStep);
              const v3 = v128.load32_splat(p + 3 * pixelStep);
              a00 = f32x4.add(a00, f32x4.mul(v0, w0));
              a01 = f32x4.add(a01, f32x4.mul(v0, w1));
              a10 = f32x4.add(a10, f32x4.mul(v1, w0));
              a11 = f32x4.add(a11, f32x4.mul(v1, w1));
              a20 = f32x4.add(a20, f32x4.mul(v2, w0));
              a21 = f32x4.add(a21, f32x4.mul(v2, w1));
              a30 = f32x4.add(a30, f32x4.mul(v3, w0));
              a31 = f32x4.add(a31, f32x4.mul(v3, w1));
            }
          }
        }
        const o = output + (<usize>(r * outWidth + x) * outPixelBytes) + (<usize>ob << 5);
        store(o, a00, a01, rectify, slope);
        store(o + outPixelBytes, a10, a11, rectify, slope);
        store(o + 2 * outPixelBytes, a20, a21, rectify, slope);
        store(o + 3 * outPixelBytes, a30, a31, rectify, slope);
      }
      for (; x < outWidth; x++) {
        let a0 = b0, a1 = b1;
        let w = block;
        for (let ky = 0; ky < kh; ky++) {
          const inRow = input + <usize>(r * sy + ky * dy) * rowBytes;
          for (let kx = 0; kx < kw; kx++) {
            let p = inRow + <usize>(x * sx + kx * dx) * pixelBytes;
            const end = p + pixelBytes;
            for (; p < end; p += 4, w += 32) {
              const v = v128.load32_splat(p);
              a0 = f32x4.add(a0, f32x4.mul(v, v128.load(w)));
              a1 = f32x4.add(a1, f32x4.mul(v, v128.load(w, 16)));
            }
          }
        }
        store(output + (<usize>(r * outWidth + x) * outPixelBytes) + (<usize>ob << 5), a0, a1, rectify, slope);
      }
    }
  }
}

/** Stores 8 channels, through max(v, slope·v) when rectify: ReLU at slope 0, leaky ReLU otherwise. */
// @ts-ignore: AssemblyScript decorator
@inline function store(at: usize, lo: v128, hi: v128, rectify: bool, slope: f32): void {
  if (rectify) {
    const s = f32x4.splat(slope);
    lo = f32x4.max(lo, f32x4.mul(lo, s));
    hi = f32x4.max(hi, f32x4.mul(hi, s));
  }
  v128.store(at, lo);
  v128.store(at, hi, 16);
}
