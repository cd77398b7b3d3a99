// Image decoding: PNG variants pngjs hands us, JPEG with EXIF orientation, bad files.
import { test } from "uvu";
import * as assert from "uvu/assert";
import jpeg from "jpeg-js";
import { PNG } from "pngjs";
import { decodeImage, encodeMapPng, exifOrientation, orient } from "../src/image/decode.js";
import { pngFromChunks } from "./helpers.js";

/** A 2×3 image whose pixels are all different: (x, y) -> red = 10·x, green = 10·y. */
const W = 2, H = 3;
const tiny = { width: W, height: H, data: new Uint8Array(W * H * 4).map((_, i) => (i % 4 === 0 ? 10 * ((i >> 2) % W) : i % 4 === 1 ? 10 * Math.floor((i >> 2) / W) : 255)) };
const at = (im: { width: number; data: Uint8Array | Uint8ClampedArray }, x: number, y: number) => [im.data[(y * im.width + x) * 4], im.data[(y * im.width + x) * 4 + 1]];

test("orient: each EXIF orientation puts the stored corners where a viewer shows them", () => {
  // Orientation 6 (rotate 90° clockwise to display): the stored bottom-left becomes the top-left.
  const r6 = orient(tiny, 6);
  assert.equal([r6.width, r6.height], [3, 2]);
  assert.equal(at(r6, 0, 0), at(tiny, 0, H - 1));
  assert.equal(at(r6, 2, 0), at(tiny, 0, 0));
  const r8 = orient(tiny, 8);
  assert.equal(at(r8, 0, 0), at(tiny, W - 1, 0));
  assert.equal(at(orient(tiny, 3), 0, 0), at(tiny, W - 1, H - 1));
  assert.equal(at(orient(tiny, 2), 0, 0), at(tiny, W - 1, 0));
  assert.equal(at(orient(tiny, 4), 0, 0), at(tiny, 0, H - 1));
  assert.equal(at(orient(tiny, 5), 1, 0), at(tiny, 0, 1));
  assert.equal(at(orient(tiny, 7), 0, 0), at(tiny, W - 1, H - 1));
  // Applying 6 then 8 is the identity.
  assert.equal([...orient(orient(tiny, 6), 8).data], [...tiny.data]);
});

function jpegWithOrientation(orientation: number): Uint8Array {
  const big = { width: 64, height: 32, data: new Uint8Array(64 * 32 * 4) };
  for (let y = 0; y < 32; y++) for (let x = 0; x < 64; x++) big.data.set([x < 32 ? 255 : 0, y < 16 ? 255 : 0, 0, 255], (y * 64 + x) * 4);
  const plain = jpeg.encode(big, 95).data;
  // APP1 "Exif\0\0", little-endian TIFF, one IFD entry: Orientation (0x0112), SHORT, 1, value.
  const tiffBytes = [0x49, 0x49, 0x2a, 0, 8, 0, 0, 0, 1, 0, 0x12, 0x01, 3, 0, 1, 0, 0, 0, orientation, 0, 0, 0, 0, 0, 0, 0];
  const app1 = [0xff, 0xe1, 0, 2 + 6 + tiffBytes.length, 0x45, 0x78, 0x69, 0x66, 0, 0, ...tiffBytes];
  return new Uint8Array([...plain.subarray(0, 2), ...app1, ...plain.subarray(2)]);
}

test("JPEG with EXIF orientation 6 decodes upright (portrait), as viewers show it", () => {
  const bytes = jpegWithOrientation(6);
  assert.is(exifOrientation(bytes), 6);
  const im = decodeImage(bytes, "rotated.jpg");
  assert.equal([im.width, im.height], [32, 64]);
  // Stored top-left quadrant is red+green; after rotating 90° clockwise it sits at the top-right.
  const px = at(im, 28, 4);
  assert.ok(px[0] > 200 && px[1] > 200, `top-right is ${px}`);
  assert.is(exifOrientation(jpegWithOrientation(1)), 1);
});

test("PNG variants decode to RGBA: greyscale, greyscale + alpha, 16-bit RGB, RGBA", () => {
  for (const [colorType, bitDepth] of [[0, 8], [4, 8], [2, 16], [6, 8]] as const) {
    const png = new PNG({ width: 3, height: 2, colorType, bitDepth, inputHasAlpha: true });
    png.data.fill(128);
    for (let i = 3; i < png.data.length; i += 4) png.data[i] = 255; // opaque: the writer blends alpha into white otherwise
    const bytes = PNG.sync.write(png, { colorType, bitDepth, inputHasAlpha: true });
    const im = decodeImage(new Uint8Array(bytes), `t${colorType}.png`);
    assert.equal([im.width, im.height, im.data.length], [3, 2, 24], `colour type ${colorType}, ${bitDepth}-bit`);
    assert.ok(Math.abs(im.data[0] - 128) <= 1, `colour type ${colorType}: ${im.data[0]}`);
  }
});

test("palette PNG (colour type 3) decodes to its palette colours", () => {
  const palette = new Uint8Array([255, 0, 0, 0, 255, 0, 0, 0, 255]);
  const rows = new Uint8Array([0, 0, 1, 2, 0, 2, 1, 0]); // filter byte 0, then 3 indices per row
  const im = decodeImage(pngFromChunks(3, 2, 3, 8, [["PLTE", palette]], rows), "palette.png");
  assert.equal([im.width, im.height], [3, 2]);
  assert.equal([...im.data.subarray(0, 12)], [255, 0, 0, 255, 0, 255, 0, 255, 0, 0, 255, 255]);
  assert.equal([...im.data.subarray(12, 16)], [0, 0, 255, 255]);
});

test("0×0 and absurdly large PNGs are refused from the header, naming the size", () => {
  assert.throws(() => decodeImage(pngFromChunks(0, 0, 2, 8, [], new Uint8Array()), "empty.png"), /empty\.png: image is empty \(0×0\)/);
  // Only the header says 100000×100000: it must be refused before 40 GB are allocated.
  assert.throws(() => decodeImage(pngFromChunks(100000, 100000, 2, 8, [], new Uint8Array(1)), "huge.png"), /huge\.png: 100000×100000 is over the 67108864-pixel limit/);
  const one = decodeImage(pngFromChunks(1, 1, 2, 8, [], new Uint8Array([0, 9, 8, 7])), "one.png");
  assert.equal([one.width, one.height, ...one.data], [1, 1, 9, 8, 7, 255]);
});

test("corrupt and truncated images fail with the file name and the format", () => {
  const good = encodeMapPng({ width: 8, height: 8, data: new Float32Array(64).fill(0.5) });
  assert.throws(() => decodeImage(good.subarray(0, 40), "cut.png"), /cut\.png: cannot decode PNG/);
  const jpg = jpegWithOrientation(1);
  assert.throws(() => decodeImage(jpg.subarray(0, 200), "cut.jpg"), /cut\.jpg: cannot decode JPEG/);
  assert.throws(() => decodeImage(new Uint8Array([1, 2, 3, 4]), "x.gif"), /x\.gif: not a PNG or JPEG image/);
});

test("maps encode as 8-bit greyscale PNG, white = blurred, clamped", () => {
  const bytes = encodeMapPng({ width: 3, height: 1, data: new Float32Array([0, 1, 7]) });
  const back = PNG.sync.read(Buffer.from(bytes));
  assert.equal([back.data[0], back.data[4], back.data[8]], [0, 255, 255]);
});

test.run();
