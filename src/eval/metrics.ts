/**
 * Blur-map evaluation as in the blur-detection literature (DBM, Shi et al.):
 * a map is thresholded at each of 256 levels and compared with a binary mask
 * (true = blurred).
 *   ODS F: the best F over one threshold shared by the whole dataset (TP, FP
 *          and FN summed over all images first).
 *   OIS F: each image's best F over its own threshold, averaged.
 *   AP:    area under the dataset's precision-recall curve (step rule).
 *   MAE:   mean |map − mask| per image, averaged.
 * F_β = (1+β²)·P·R / (β²·P + R); β² = 0.3 (the usual choice) and β = 1.
 */
export const LEVELS = 256;

/** Per image: at threshold index k (map ≥ k/255), the blurred and sharp pixels predicted blurred. */
export interface ImageCounts {
  /** tp[k]: mask-blurred pixels with map level ≥ k. */
  readonly tp: Float64Array;
  /** fp[k]: mask-sharp pixels with map level ≥ k. */
  readonly fp: Float64Array;
  readonly positives: number;
  readonly absError: number;
  readonly pixels: number;
}

export function countImage(map: ArrayLike<number>, mask: ArrayLike<boolean>): ImageCounts {
  if (map.length !== mask.length) throw new Error(`map has ${map.length} pixels, mask ${mask.length}`);
  const pos = new Float64Array(LEVELS);
  const neg = new Float64Array(LEVELS);
  let absError = 0;
  for (let i = 0; i < map.length; i++) {
    const v = Math.min(1, Math.max(0, map[i]));
    const level = Math.round(v * (LEVELS - 1));
    (mask[i] ? pos : neg)[level]++;
    absError += Math.abs(v - (mask[i] ? 1 : 0));
  }
  // Cumulative from the top: counts at or above each level.
  for (let k = LEVELS - 2; k >= 0; k--) {
    pos[k] += pos[k + 1];
    neg[k] += neg[k + 1];
  }
  return { tp: pos, fp: neg, positives: pos[0], absError, pixels: map.length };
}

export function fMeasure(precision: number, recall: number, beta2: number): number {
  const d = beta2 * precision + recall;
  return d > 0 ? ((1 + beta2) * precision * recall) / d : 0;
}

export interface PrPoint {
  readonly threshold: number;
  readonly precision: number;
  readonly recall: number;
}

export interface Scores {
  readonly images: number;
  readonly odsF: number;
  readonly odsThreshold: number;
  readonly oisF: number;
  readonly odsF1: number;
  readonly oisF1: number;
  readonly ap: number;
  readonly mae: number;
  readonly curve: readonly PrPoint[];
}

function pr(tp: number, fp: number, positives: number): [number, number] {
  // Nothing predicted blurred: precision is taken as 1 (the curve's high-threshold end).
  return [tp + fp > 0 ? tp / (tp + fp) : 1, positives > 0 ? tp / positives : 1];
}

function bestF(tp: Float64Array, fp: Float64Array, positives: number, beta2: number): [number, number] {
  let best = 0;
  let at = 0;
  for (let k = 0; k < LEVELS; k++) {
    const f = fMeasure(...pr(tp[k], fp[k], positives), beta2);
    if (f > best) [best, at] = [f, k];
  }
  return [best, at];
}

export function score(images: readonly ImageCounts[]): Scores {
  if (images.length === 0) throw new Error("no images to evaluate");
  const tp = new Float64Array(LEVELS);
  const fp = new Float64Array(LEVELS);
  let positives = 0;
  for (const im of images) {
    for (let k = 0; k < LEVELS; k++) {
      tp[k] += im.tp[k];
      fp[k] += im.fp[k];
    }
    positives += im.positives;
  }
  const [odsF, odsLevel] = bestF(tp, fp, positives, 0.3);
  const [odsF1] = bestF(tp, fp, positives, 1);
  const mean = (f: (im: ImageCounts) => number) => images.reduce((s, im) => s + f(im), 0) / images.length;
  const oisF = mean((im) => bestF(im.tp, im.fp, im.positives, 0.3)[0]);
  const oisF1 = mean((im) => bestF(im.tp, im.fp, im.positives, 1)[0]);
  const curve: PrPoint[] = [];
  for (let k = LEVELS - 1; k >= 0; k--) {
    const [precision, recall] = pr(tp[k], fp[k], positives);
    curve.push({ threshold: k / (LEVELS - 1), precision, recall });
  }
  let ap = 0;
  let lastRecall = 0;
  for (const p of curve) {
    ap += (p.recall - lastRecall) * p.precision;
    lastRecall = p.recall;
  }
  return { images: images.length, odsF, odsThreshold: odsLevel / (LEVELS - 1), oisF, odsF1, oisF1, ap, mae: mean((im) => im.absError / im.pixels), curve };
}

/** The precision-recall curve as a standalone SVG. */
export function prCurveSvg(s: Scores, title: string): string {
  const size = 320;
  const pad = 40;
  const x = (r: number) => pad + r * (size - 2 * pad);
  const y = (p: number) => size - pad - p * (size - 2 * pad);
  const points = s.curve.map((p) => `${x(p.recall).toFixed(1)},${y(p.precision).toFixed(1)}`).join(" ");
  const ticks = [0, 0.25, 0.5, 0.75, 1];
  const esc = (t: string) => t.replace(/&/g, "&amp;").replace(/</g, "&lt;");
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${size}" height="${size}" font-family="sans-serif" font-size="10">
<rect width="100%" height="100%" fill="white"/>
<text x="${size / 2}" y="16" text-anchor="middle" font-size="12">${esc(title)}</text>
${ticks.map((t) => `<line x1="${x(t)}" y1="${y(0)}" x2="${x(t)}" y2="${y(1)}" stroke="#eee"/><line x1="${x(0)}" y1="${y(t)}" x2="${x(1)}" y2="${y(t)}" stroke="#eee"/><text x="${x(t)}" y="${y(0) + 14}" text-anchor="middle">${t}</text><text x="${x(0) - 6}" y="${y(t) + 3}" text-anchor="end">${t}</text>`).join("\n")}
<rect x="${x(0)}" y="${y(1)}" width="${x(1) - x(0)}" height="${y(0) - y(1)}" fill="none" stroke="black"/>
<polyline points="${points}" fill="none" stroke="#c33" stroke-width="2"/>
<text x="${size / 2}" y="${size - 8}" text-anchor="middle">recall</text>
<text x="12" y="${size / 2}" text-anchor="middle" transform="rotate(-90 12 ${size / 2})">precision</text>
<text x="${x(0) + 6}" y="${y(0) - 8}">ODS F(β²=0.3) ${s.odsF.toFixed(3)}  AP ${s.ap.toFixed(3)}  MAE ${s.mae.toFixed(3)}  (${s.images} images)</text>
</svg>
`;
}
