/** IEEE half and bfloat16 <-> float32, for weights stored in 16 bits. */
const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

export function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 31) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

/** Round-to-nearest-even float32 -> half bits (values past the half range become ±Infinity). */
export function floatToHalf(value: number): number {
  f32[0] = value;
  const x = u32[0];
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  let e = exp - 127 + 15;
  if (e >= 31) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    let half = mant >> shift;
    const rem = mant & ((1 << shift) - 1);
    const mid = 1 << (shift - 1);
    if (rem > mid || (rem === mid && half & 1)) half++;
    return sign | half;
  }
  let half = (e << 10) | (mant >> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && half & 1)) half++;
  return sign | half;
}

/**
 * Whether every value is a half float exactly (so half-float storage loses
 * nothing): ±0, or a float32 whose exponent is in half's range and whose
 * mantissa bits below half's precision are zero. Bit tests, not a round trip
 * per value: this runs over every weight on a model's first run.
 */
export function exactInHalf(values: Float32Array): boolean {
  const bits = new Uint32Array(values.buffer, values.byteOffset, values.length);
  for (let i = 0; i < bits.length; i++) {
    const x = bits[i];
    const exp = (x >>> 23) & 0xff;
    if ((x & 0x7fffffff) === 0) continue;
    // Normal halves, 2^-14 .. 2^15: 10 mantissa bits, the low 13 of float32's 23 are zero.
    // Subnormal halves, 2^-24 .. 2^-15: one bit fewer kept per step down.
    const droppedBits = exp >= 113 && exp <= 142 ? 13 : exp >= 103 && exp < 113 ? 13 + (113 - exp) : -1;
    if (droppedBits < 0 || (x & ((1 << droppedBits) - 1)) !== 0) return false;
  }
  return true;
}

export function bfloat16ToFloat(b: number): number {
  u32[0] = b << 16;
  return f32[0];
}
