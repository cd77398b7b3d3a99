/**
 * How a tensor lives in a texture: the one place this is defined.
 *
 * Tensors are NHWC: shape [n, h, w, c]. On the GPU a tensor is one RGBA32F
 * texture. Channels are packed four to a texel: channel group g holds channels
 * 4g..4g+3 (the last group is zero-padded when c is not a multiple of 4). Each
 * (image n, group g) pair is a "tile" of w×h texels; tiles are numbered
 * t = n·groups + g and laid out row-major on a grid `cols` tiles wide:
 *
 *     texel(n, y, x, g) = ( (t % cols)·w + x , floor(t / cols)·h + y )
 *
 * `cols` is chosen to keep the texture near-square, so deep layers (many
 * groups) and patch batches (many images) both fit under MAX_TEXTURE_SIZE;
 * or, given `maxWidth`, as many tiles a row as fit in that width (scratch
 * textures shared by tensors of different shapes). Passes read `cols` from a
 * uniform, so either layout works everywhere.
 * Texels past the last tile are unused and hold zeros. Every pass writes zeros
 * into padded channels, so a texel can always be read as a whole vec4.
 */
export type Shape = readonly [n: number, h: number, w: number, c: number];

export interface TextureLayout {
  readonly shape: Shape;
  readonly groups: number;
  readonly cols: number;
  readonly width: number;
  readonly height: number;
}

export function channelGroups(c: number): number {
  return Math.ceil(c / 4);
}

export function textureLayout(shape: Shape, maxWidth?: number): TextureLayout {
  const [n, h, w, c] = shape;
  const groups = channelGroups(c);
  const tiles = n * groups;
  const cols = Math.max(1, Math.min(tiles, maxWidth === undefined ? Math.round(Math.sqrt((tiles * h) / w)) : Math.floor(maxWidth / w)));
  const rows = Math.ceil(tiles / cols);
  return { shape, groups, cols, width: cols * w, height: rows * h };
}

/** NHWC floats -> the texture's RGBA floats. */
export function packTexture(data: Float32Array, layout: TextureLayout): Float32Array {
  const [n, h, w, c] = layout.shape;
  const out = new Float32Array(layout.width * layout.height * 4);
  for (let b = 0; b < n; b++)
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++)
        for (let ch = 0; ch < c; ch++) {
          out[texelIndex(layout, b, y, x, ch >> 2) * 4 + (ch & 3)] = data[((b * h + y) * w + x) * c + ch];
        }
  return out;
}

/** The texture's RGBA floats -> NHWC floats. */
export function unpackTexture(texels: Float32Array, layout: TextureLayout): Float32Array {
  const [n, h, w, c] = layout.shape;
  const out = new Float32Array(n * h * w * c);
  for (let b = 0; b < n; b++)
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++)
        for (let ch = 0; ch < c; ch++) {
          out[((b * h + y) * w + x) * c + ch] = texels[texelIndex(layout, b, y, x, ch >> 2) * 4 + (ch & 3)];
        }
  return out;
}

function texelIndex(layout: TextureLayout, n: number, y: number, x: number, g: number): number {
  const [, h, w] = layout.shape;
  const t = n * layout.groups + g;
  const tx = (t % layout.cols) * w + x;
  const ty = Math.floor(t / layout.cols) * h + y;
  return ty * layout.width + tx;
}

export function shapeSize(shape: Shape): number {
  return shape[0] * shape[1] * shape[2] * shape[3];
}

export function shapeString(shape: readonly number[]): string {
  return `[${shape.join(", ")}]`;
}
