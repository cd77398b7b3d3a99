/** Image in, network input out: RGBA bytes -> normalised RGB tensor [1, H, W, 3]. */
import type { Tensor } from "../kernels/kernel.js";
import type { Normalisation } from "../weights/metadata.js";

/** 8-bit RGBA pixels, row-major; ImageData and decoded PNG/JPEG both fit. */
export interface RgbaImage {
  readonly width: number;
  readonly height: number;
  readonly data: Uint8Array | Uint8ClampedArray;
}

export function checkImage(image: RgbaImage, what = "image"): void {
  const { width, height, data } = image;
  if (!Number.isSafeInteger(width) || !Number.isSafeInteger(height) || width < 1 || height < 1)
    throw new Error(`${what}: size ${width}×${height} is empty or not whole pixels`);
  if (!data || data.length !== width * height * 4)
    throw new Error(`${what}: has ${data?.length ?? 0} bytes of pixels, but ${width}×${height} RGBA needs ${width * height * 4}`);
}

/**
 * Box-filter shrink so that the long side is at most `longSide` (an image
 * already within it is returned as is). The short side is never shrunk below
 * `minSide`, so a long thin image stays big enough for the network; its long
 * side then ends up over `longSide`.
 */
export function shrinkToFit(image: RgbaImage, longSide: number, minSide = 1): RgbaImage {
  const f = Math.min(Math.max(image.width, image.height) / longSide, Math.min(image.width, image.height) / minSide);
  if (f <= 1) return image;
  const width = Math.max(1, Math.round(image.width / f));
  const height = Math.max(1, Math.round(image.height / f));
  const data = new Uint8Array(width * height * 4);
  const fy = image.height / height;
  const fx = image.width / width;
  for (let y = 0; y < height; y++) {
    const y0 = Math.floor(y * fy);
    const y1 = Math.max(y0 + 1, Math.floor((y + 1) * fy));
    for (let x = 0; x < width; x++) {
      const x0 = Math.floor(x * fx);
      const x1 = Math.max(x0 + 1, Math.floor((x + 1) * fx));
      for (let c = 0; c < 4; c++) {
        let sum = 0;
        for (let yy = y0; yy < y1; yy++) for (let xx = x0; xx < x1; xx++) sum += image.data[(yy * image.width + xx) * 4 + c];
        data[(y * width + x) * 4 + c] = Math.round(sum / ((y1 - y0) * (x1 - x0)));
      }
    }
  }
  return { width, height, data };
}

/** RGB in 0..1, unnormalised: how the MRF and blur magnification see a photo. */
export const UNIT_RGB: Normalisation = { mean: [0, 0, 0], std: [1, 1, 1] };

/** Alpha is ignored: blur is a property of the colour image. */
export function toInputTensor(image: RgbaImage, norm: Normalisation): Tensor {
  checkImage(image);
  const { width, height, data } = image;
  const out = new Float32Array(width * height * 3);
  for (let p = 0; p < width * height; p++)
    for (let c = 0; c < 3; c++) out[p * 3 + c] = (data[p * 4 + c] / 255 - norm.mean[c]) / norm.std[c];
  return { shape: [1, height, width, 3], data: out };
}
