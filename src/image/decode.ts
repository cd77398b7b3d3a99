/** PNG and JPEG files -> RGBA pixels (Node; pngjs and jpeg-js are pure JS). */
import jpeg from "jpeg-js";
import { PNG } from "pngjs";
import type { RgbaImage } from "./preprocess.js";

/** Above this many pixels an image is refused rather than exhausting memory. */
export const MAX_PIXELS = 64 * 1024 * 1024;

export function decodeImage(bytes: Uint8Array, file: string): RgbaImage {
  const isPng = bytes.length >= 8 && bytes[0] === 0x89 && bytes[1] === 0x50 && bytes[2] === 0x4e && bytes[3] === 0x47;
  const isJpeg = bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff;
  if (!isPng && !isJpeg) throw new Error(`${file}: not a PNG or JPEG image (unrecognised file signature)`);
  let image: RgbaImage;
  try {
    if (isPng) {
      const png = PNG.sync.read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
      image = { width: png.width, height: png.height, data: new Uint8Array(png.data.buffer, png.data.byteOffset, png.data.byteLength) };
    } else {
      const j = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: true, maxResolutionInMP: MAX_PIXELS / 1e6, maxMemoryUsageInMB: 2048 });
      image = { width: j.width, height: j.height, data: j.data };
    }
  } catch (e) {
    throw new Error(`${file}: cannot decode ${isPng ? "PNG" : "JPEG"} (${(e as Error).message})`);
  }
  if (image.width < 1 || image.height < 1) throw new Error(`${file}: image is empty (${image.width}×${image.height})`);
  if (image.width * image.height > MAX_PIXELS) throw new Error(`${file}: ${image.width}×${image.height} is over the ${MAX_PIXELS}-pixel limit`);
  return image;
}

/** A blur map (0..1) -> 8-bit greyscale PNG bytes, white = blurred. */
export function encodeMapPng(map: { width: number; height: number; data: Float32Array }): Uint8Array {
  const png = new PNG({ width: map.width, height: map.height, colorType: 0, inputColorType: 0, bitDepth: 8, inputHasAlpha: false });
  const grey = Buffer.alloc(map.width * map.height);
  for (let i = 0; i < grey.length; i++) grey[i] = Math.round(Math.min(1, Math.max(0, map.data[i])) * 255);
  png.data = grey;
  return PNG.sync.write(png, { colorType: 0, inputColorType: 0, inputHasAlpha: false, bitDepth: 8 });
}
