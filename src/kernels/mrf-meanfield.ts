/**
 * One damped mean-field update of the binary segmentation MRF
 *
 *     E(x) = Σ_p U_p(x_p) + Σ_{p~q} w_pq·[x_p ≠ x_q],   U_p(1) = −ln b_p, U_p(0) = −ln(1 − b_p)
 *
 * q_p = P(x_p = 1) becomes σ(logit b_p + Σ_q w_pq·(2q_q − 1)), mixed with the
 * old q_p by `damping` so that the parallel (Jacobi) update does not oscillate.
 * Inputs: the blur map b, the edge weights from mrf_edges, the current q.
 * Thresholding q at 0.5 after enough passes approximates the exact minimiser
 * that apps/graph-cut.ts finds on the CPU.
 */
import { tensor, type Kernel } from "./kernel.js";
import { NEIGHBOURS } from "./mrf-edges.js";

export interface MeanFieldAttrs {
  readonly damping: number;
}

/** Keeps ln b and ln(1 − b) finite where the map is exactly 0 or 1. */
export const MAP_EPSILON = 1e-4;

export const mrfMeanField: Kernel<MeanFieldAttrs> = {
  op: "mrf_meanfield",
  outputShape([b, edges, q]) {
    const same = (s: readonly number[]) => s[0] === b[0] && s[1] === b[1] && s[2] === b[2];
    if (b[3] !== 1 || q[3] !== 1 || edges[3] !== 4 || !same(edges) || !same(q))
      throw new Error(`mrf_meanfield: expected map [n,h,w,1], edges [n,h,w,4], q [n,h,w,1]; got [${b}], [${edges}], [${q}]`);
    return q;
  },
  cpu([b, edges, q], a) {
    const [n, h, w] = b.shape;
    const out = tensor(q.shape);
    for (let i = 0; i < n; i++)
      for (let y = 0; y < h; y++)
        for (let x = 0; x < w; x++) {
          const p = (i * h + y) * w + x;
          const bp = Math.min(Math.max(b.data[p], MAP_EPSILON), 1 - MAP_EPSILON);
          let field = Math.log(bp / (1 - bp));
          NEIGHBOURS.forEach(([dy, dx], k) => {
            const ny = y + dy;
            const nx = x + dx;
            if (ny >= 0 && ny < h && nx >= 0 && nx < w) field += edges.data[p * 4 + k] * (2 * q.data[(i * h + ny) * w + nx] - 1);
          });
          out.data[p] = (1 - a.damping) / (1 + Math.exp(-field)) + a.damping * q.data[p];
        }
    return out;
  },
  gpu: {
    variant: () => "",
    uniforms: (a) => ({ u_damping: a.damping }),
    source: () => `
uniform float u_damping;
float pull(ivec4 o, float weight, int dy, int dx) {
  int y = o.y + dy, x = o.z + dx;
  if (y < 0 || y >= u_in0_shape.y || x < 0 || x >= u_in0_shape.z) return 0.0;
  return weight * (2.0 * fetch2(o.x, y, x, 0).r - 1.0);
}
vec4 run(ivec4 o) {
  float b = clamp(fetch0(o.x, o.y, o.z, 0).r, ${MAP_EPSILON.toExponential()}, ${(1 - MAP_EPSILON).toFixed(4)});
  vec4 w = fetch1(o.x, o.y, o.z, 0);
  float field = log(b / (1.0 - b)) + pull(o, w.x, 0, 1) + pull(o, w.y, 1, 0) + pull(o, w.z, 0, -1) + pull(o, w.w, -1, 0);
  float old = fetch2(o.x, o.y, o.z, 0).r;
  return vec4(mix(1.0 / (1.0 + exp(-field)), old, u_damping), 0.0, 0.0, 0.0);
}`,
  },
};
