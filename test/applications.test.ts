// The DBM applications on the CPU: the exact graph cut against brute force, the
// MRF doing its job (speckle removed, boundary on the photo's edge), mean-field
// against graph cut, blur magnification's invariants, and the public API.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { graphCut, mrfEnergy } from "../src/apps/graph-cut.js";
import { rgbTensor, segmentMap } from "../src/apps/segment.js";
import { runCpu } from "../src/graph/cpu-executor.js";
import { loadModel } from "../src/index.js";
import type { Tensor } from "../src/kernels/kernel.js";
import { contrastBeta, mrfEdges } from "../src/kernels/mrf-edges.js";
import { fixtureBytes } from "./helpers.js";
import { randomNormal } from "./random.js";

const uniform = (n: number, seed: number) => Float32Array.from(randomNormal(n, seed), (v) => 1 / (1 + Math.exp(-2 * v)));

test("graph cut finds the minimum energy: equal to brute force over all 2^12 labellings, 20 random 3×4 MRFs", () => {
  for (let seed = 1; seed <= 20; seed++) {
    const [h, w] = [3, 4];
    const map = uniform(h * w, seed);
    const edges = Float32Array.from(uniform(h * w * 4, seed + 100), (v) => 1.5 * v);
    const cut = graphCut(map, edges, h, w);
    let best = Infinity;
    for (let bits = 0; bits < 1 << (h * w); bits++) {
      const labels = Uint8Array.from({ length: h * w }, (_, p) => (bits >> p) & 1);
      best = Math.min(best, mrfEnergy(labels, map, edges, h, w));
    }
    const energy = mrfEnergy(cut, map, edges, h, w);
    assert.ok(Math.abs(energy - best) < 1e-9, `seed ${seed}: graph cut energy ${energy}, brute-force minimum ${best}`);
  }
});

const runOnCpu = (graph: Parameters<typeof runCpu>[0], inputs: Tensor[]) => runCpu(graph, new Map(), inputs).get(graph.output)!;

/** A 40×60 photo split by a vertical colour edge at x = 37; a map whose soft boundary sits at x = 30, with speckles. */
function edgeCase() {
  const [h, w] = [40, 60];
  const data = new Uint8ClampedArray(h * w * 4);
  const noise = randomNormal(h * w, 5);
  const map = new Float32Array(h * w);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      const p = y * w + x;
      const colour = x >= 37 ? [70, 90, 160] : [180, 140, 100];
      for (let c = 0; c < 3; c++) data[p * 4 + c] = colour[c] + 3 * noise[p];
      data[p * 4 + 3] = 255;
      map[p] = 1 / (1 + Math.exp(-(x - 30) / 6));
      if ((x * 7 + y * 13) % 53 === 0) map[p] = 1 - map[p]; // isolated wrong pixels
    }
  return { image: { width: w, height: h, data }, map: { shape: [1, h, w, 1] as const, data: map } as Tensor };
}

test("the exact cut removes speckle and moves the boundary onto the photo's edge; λ = 0 is the map thresholded", () => {
  const { image, map } = edgeCase();
  const q = segmentMap(map, image, { solver: "graphcut", smoothness: 4 }, runOnCpu);
  const wrong = q.data.reduce((n, v, p) => n + ((v >= 0.5 ? 1 : 0) !== (p % 60 >= 37 ? 1 : 0) ? 1 : 0), 0);
  assert.is(wrong, 0, `${wrong} pixels off the photo's edge`);
  const raw = segmentMap(map, image, { solver: "graphcut", smoothness: 0 }, runOnCpu);
  assert.ok(raw.data.every((v, p) => v === (map.data[p] >= 0.5 ? 1 : 0)), "λ = 0: the map thresholded at 0.5");
});

test("mean-field: nearly the exact cut's labels away from the map's boundary, ≥ 98% agreement overall, never a lower energy", () => {
  // Mean-field only makes local moves, so it keeps the map's own boundary (x = 30)
  // where the exact cut may move it to a cheaper edge: that is the agreement gap.
  const { image, map } = edgeCase();
  const [h, w] = [40, 60];
  const rgb = rgbTensor(image);
  const edges = mrfEdges.cpu([rgb], { lambda: 1, beta: contrastBeta(rgb) }, {}).data;
  const exact = graphCut(map.data, edges, h, w);
  const mean = Uint8Array.from(segmentMap(map, image, { solver: "meanfield", smoothness: 1 }, runOnCpu).data, (v) => (v >= 0.5 ? 1 : 0));
  const offBoundary = mean.reduce((n, v, p) => n + (Math.abs((p % w) - 30) > 1 && v !== exact[p] ? 1 : 0), 0);
  assert.ok(offBoundary <= 4, `away from the map's boundary, mean-field and the exact cut differ on ${offBoundary} pixels (of ${h * (w - 3)}); at most 4 allowed`);
  const agree = mean.reduce((n, v, i) => n + (v === exact[i] ? 1 : 0), 0) / mean.length;
  const [eMean, eExact] = [mrfEnergy(mean, map.data, edges, h, w), mrfEnergy(exact, map.data, edges, h, w)];
  console.log(`    mean-field vs graph cut, 40×60 edge case: agreement ${(100 * agree).toFixed(2)}% (${offBoundary} differ off the boundary), energy ${eMean.toFixed(2)} vs ${eExact.toFixed(2)}`);
  assert.ok(agree >= 0.98, `agreement ${agree}`);
  assert.ok(eMean >= eExact - 1e-9);
});

test("segment and magnify through the API: sizes, a flat photo stays flat at the borders, unblurred pixels untouched", async () => {
  const model = await loadModel(fixtureBytes("dbm-tiny.safetensors"), { workingSize: 48 });
  const photo = { width: 70, height: 50, data: Uint8ClampedArray.from(randomNormal(70 * 50 * 4, 3), (v) => 128 + 40 * v) };
  const seg = model.segment(photo);
  assert.equal([seg.mask.width, seg.mask.height, seg.mask.data.length], [70, 50, 3500]);
  assert.ok(seg.mask.data.every((v) => v === 0 || v === 1));
  assert.throws(() => model.segment(photo, { solver: "icm" as never }), /unknown MRF solver "icm"/);
  assert.throws(() => model.segment(photo, { smoothness: -1 }), /smoothness must be a number ≥ 0/);

  const flat = { width: 70, height: 50, data: new Uint8ClampedArray(70 * 50 * 4).fill(200) };
  const out = model.magnify(flat, { strength: 0.1, low: 0, high: 1e-6 }).image; // everything fully blurred
  assert.ok(out.data.every((v) => v === 200), "normalised convolution: no darkening at the borders");
  const untouched = model.magnify(photo, { low: 0.999999, high: 1 }).image; // nothing blurred
  assert.ok(untouched.data.every((v, i) => v === photo.data[i]), "pixels the map calls sharp keep their bytes");
  const blurred = model.magnify(photo, { strength: 0.05, low: 0, high: 1e-6 }).image;
  const variance = (d: ArrayLike<number>) => {
    let s = 0, s2 = 0;
    for (let i = 0; i < d.length; i += 4) (s += d[i]), (s2 += d[i] * d[i]);
    const n = d.length / 4;
    return s2 / n - (s / n) ** 2;
  };
  assert.ok(variance(blurred.data) < variance(photo.data) / 4, "the added blur smooths noise");
  assert.throws(() => model.magnify(photo, { strength: 2 }), /magnify strength must be in \(0, 0.2\]/);
});

test.run();
