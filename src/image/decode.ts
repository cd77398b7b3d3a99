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
  if (isPng) checkPngHeader(bytes, file);
  let image: RgbaImage;
  try {
    if (isPng) {
      const png = PNG.sync.read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
      image = { width: png.width, height: png.height, data: new Uint8Array(png.data.buffer, png.data.byteOffset, png.data.byteLength) };
    } else {
      const j = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: true, maxResolutionInMP: MAX_PIXELS / 1e6, maxMemoryUsageInMB: 2048 });
      // The map must line up with the photo as viewers show it, so apply EXIF orientation.
      image = orient({ width: j.width, height: j.height, data: j.data }, exifOrientation(bytes));
    }
  } catch (e) {
    throw new Error(`${file}: cannot decode ${isPng ? "PNG" : "JPEG"}: the file is corrupt or truncated (decoder: ${(e as Error).message})`);
  }
  checkSize(image.width, image.height, file);
  return image;
}

function checkSize(width: number, height: number, file: string): void {
  if (width < 1 || height < 1) throw new Error(`${file}: image is empty (${width}×${height})`);
  if (width * height > MAX_PIXELS) throw new Error(`${file}: ${width}×${height} is over the ${MAX_PIXELS}-pixel limit`);
}

/**
 * Refuses an empty PNG, or one too big to decode, from its header alone: the
 * decoder would otherwise allocate the whole image before finding out.
 */
function checkPngHeader(bytes: Uint8Array, file: string): void {
  if (bytes.length < 24 || String.fromCharCode(...bytes.subarray(12, 16)) !== "IHDR") return; // the decoder names what is wrong
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  checkSize(view.getUint32(16), view.getUint32(20), file);
}

/** The EXIF orientation (1-8) of a JPEG, 1 when it has none or it cannot be read. */
export function exifOrientation(jpegBytes: Uint8Array): number {
  const view = new DataView(jpegBytes.buffer, jpegBytes.byteOffset, jpegBytes.byteLength);
  let p = 2;
  while (p + 4 <= jpegBytes.length && jpegBytes[p] === 0xff) {
    const marker = jpegBytes[p + 1];
    const length = view.getUint16(p + 2);
    if (marker === 0xda || length < 2) break; // start of scan: no more metadata
    const exif = p + 4;
    if (marker === 0xe1 && exif + 14 <= jpegBytes.length && view.getUint32(exif) === 0x45786966 && view.getUint16(exif + 4) === 0) {
      const tiff = exif + 6;
      const little = view.getUint16(tiff) === 0x4949;
      const u16 = (o: number) => (o + 2 <= jpegBytes.length ? view.getUint16(o, little) : 0);
      const u32 = (o: number) => (o + 4 <= jpegBytes.length ? view.getUint32(o, little) : 0);
      const ifd = tiff + u32(tiff + 4);
      const entries = u16(ifd);
      for (let i = 0; i < entries; i++) {
        const entry = ifd + 2 + i * 12;
        if (u16(entry) === 0x0112) {
          const value = u16(entry + 8);
          return value >= 1 && value <= 8 ? value : 1;
        }
      }
      return 1;
    }
    p += 2 + length;
  }
  return 1;
}

/** Applies an EXIF orientation: the pixels as a viewer displays them. */
export function orient(image: RgbaImage, orientation: number): RgbaImage {
  if (orientation === 1) return image;
  const { width: w, height: h } = image;
  const swap = orientation >= 5;
  const width = swap ? h : w;
  const height = swap ? w : h;
  // For each displayed pixel (x, y): the stored pixel it shows.
  const source: Record<number, (x: number, y: number) => [number, number]> = {
    2: (x, y) => [w - 1 - x, y],
    3: (x, y) => [w - 1 - x, h - 1 - y],
    4: (x, y) => [x, h - 1 - y],
    5: (x, y) => [y, x],
    6: (x, y) => [y, h - 1 - x],
    7: (x, y) => [w - 1 - y, h - 1 - x],
    8: (x, y) => [w - 1 - y, x],
  };
  const from = source[orientation];
  const data = new Uint8Array(width * height * 4);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) {
      const [sx, sy] = from(x, y);
      data.set(image.data.subarray((sy * w + sx) * 4, (sy * w + sx) * 4 + 4), (y * width + x) * 4);
    }
  return { width, height, data };
}

/** A blur map (0..1) -> 8-bit greyscale PNG bytes, white = blurred. */
export function encodeMapPng(map: { width: number; height: number; data: Float32Array }): Uint8Array {
  const png = new PNG({ width: map.width, height: map.height, colorType: 0, inputColorType: 0, bitDepth: 8, inputHasAlpha: false });
  const grey = Buffer.alloc(map.width * map.height);
  for (let i = 0; i < grey.length; i++) grey[i] = Math.round(Math.min(1, Math.max(0, map.data[i])) * 255);
  png.data = grey;
  return PNG.sync.write(png, { colorType: 0, inputColorType: 0, inputHasAlpha: false, bitDepth: 8 });
}

/** An RGBA image -> PNG bytes: RGB when every pixel is opaque, RGBA otherwise. */
export function encodeRgbaPng(image: RgbaImage): Uint8Array {
  let opaque = true;
  for (let i = 3; i < image.data.length && opaque; i += 4) opaque = image.data[i] === 255;
  const colorType = opaque ? 2 : 6;
  const png = new PNG({ width: image.width, height: image.height, colorType, inputColorType: 6, bitDepth: 8, inputHasAlpha: true });
  png.data = Buffer.from(image.data.buffer, image.data.byteOffset, image.data.byteLength);
  return PNG.sync.write(png, { colorType, inputColorType: 6, inputHasAlpha: true, bitDepth: 8 });
}
