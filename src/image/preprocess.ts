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

/** Alpha is ignored: blur is a property of the colour image. */
export function toInputTensor(image: RgbaImage, norm: Normalisation): Tensor {
  checkImage(image);
  const { width, height, data } = image;
  const out = new Float32Array(width * height * 3);
  for (let p = 0; p < width * height; p++)
    for (let c = 0; c < 3; c++) out[p * 3 + c] = (data[p * 4 + c] / 255 - norm.mean[c]) / norm.std[c];
  return { shape: [1, height, width, 3], data: out };
}
