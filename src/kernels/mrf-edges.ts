/**
 * Contrast-sensitive Potts weights for the segmentation MRF: for each pixel,
 * the cost of a label change towards its right, lower, left and upper
 * neighbour (channels 0..3), λ·exp(−β‖I_p − I_q‖²), and 0 across the border.
 * Strong where colours match, weak across an image edge, so label boundaries
 * settle on the photo's own edges (GrabCut's pairwise term, 4-connected).
 */
import { tensor, type Kernel } from "./kernel.js";

export interface MrfEdgeAttrs {
  /** λ: the weight of smoothness against the map. */
  readonly lambda: number;
  /** β: 1 / (2·mean ‖I_p − I_q‖²) over the image, from contrastBeta(). */
  readonly beta: number;
}

/** The four neighbours, in channel order: right, down, left, up. */
export const NEIGHBOURS: readonly (readonly [dy: number, dx: number])[] = [[0, 1], [1, 0], [0, -1], [-1, 0]];

export const mrfEdges: Kernel<MrfEdgeAttrs> = {
  op: "mrf_edges",
  outputShape([x]) {
    if (x[3] !== 3) throw new Error(`mrf_edges: expected an RGB image (3 channels), got ${x[3]}`);
    return [x[0], x[1], x[2], 4];
  },
  cpu([x], a) {
    const [n, h, w] = x.shape;
    const out = tensor([n, h, w, 4]);
    for (let b = 0; b < n; b++)
      for (let y = 0; y < h; y++)
        for (let xx = 0; xx < w; xx++) {
          const p = (b * h + y) * w + xx;
          NEIGHBOURS.forEach(([dy, dx], k) => {
            const ny = y + dy;
            const nx = xx + dx;
            if (ny < 0 || ny >= h || nx < 0 || nx >= w) return;
            const q = (b * h + ny) * w + nx;
            let d2 = 0;
            for (let c = 0; c < 3; c++) d2 += (x.data[p * 3 + c] - x.data[q * 3 + c]) ** 2;
            out.data[p * 4 + k] = a.lambda * Math.exp(-a.beta * d2);
          });
        }
    return out;
  },
  gpu: {
    variant: () => "",
    uniforms: (a) => ({ u_lambda: a.lambda, u_beta: a.beta }),
    source: () => `
uniform float u_lambda, u_beta;
float weight(ivec4 o, vec3 centre, int dy, int dx) {
  int y = o.y + dy, x = o.z + dx;
  if (y < 0 || y >= u_in0_shape.y || x < 0 || x >= u_in0_shape.z) return 0.0;
  vec3 d = fetch0(o.x, y, x, 0).rgb - centre;
  return u_lambda * exp(-u_beta * dot(d, d));
}
vec4 run(ivec4 o) {
  vec3 c = fetch0(o.x, o.y, o.z, 0).rgb;
  return vec4(weight(o, c, 0, 1), weight(o, c, 1, 0), weight(o, c, 0, -1), weight(o, c, -1, 0));
}`,
  },
};

/** β = 1 / (2·mean squared colour difference between 4-neighbours), as in GrabCut. */
export function contrastBeta(image: { shape: readonly number[]; data: Float32Array }): number {
  const [n, h, w] = image.shape;
  let sum = 0;
  let count = 0;
  for (let b = 0; b < n; b++)
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++) {
        const p = ((b * h + y) * w + x) * 3;
        for (const [dy, dx] of NEIGHBOURS.slice(0, 2)) {
          if (y + dy >= h || x + dx >= w) continue;
          const q = ((b * h + y + dy) * w + x + dx) * 3;
          for (let c = 0; c < 3; c++) sum += (image.data[p + c] - image.data[q + c]) ** 2;
          count++;
        }
      }
  return count && sum > 0 ? count / (2 * sum) : 0;
}
