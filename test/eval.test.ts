// Evaluation metrics on cases small enough to work out by hand.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { countImage, fMeasure, score } from "../src/eval/metrics.js";

const close = (a: number, b: number, what: string) => assert.ok(Math.abs(a - b) < 1e-9, `${what}: ${a} vs ${b}`);

test("a perfect map scores F = AP = 1 and MAE = 0", () => {
  const mask = [true, true, false, false, true, false];
  const s = score([countImage(mask.map((m) => (m ? 1 : 0)), mask)]);
  close(s.odsF, 1, "ODS");
  close(s.oisF, 1, "OIS");
  close(s.ap, 1, "AP");
  close(s.mae, 0, "MAE");
});

test("an inverted map scores MAE = 1 and F at the all-blurred threshold", () => {
  const mask = [true, false, false, false];
  const s = score([countImage(mask.map((m) => (m ? 0 : 1)), mask)]);
  close(s.mae, 1, "MAE");
  // Best threshold predicts everything blurred: P = 1/4, R = 1.
  close(s.odsF, fMeasure(0.25, 1, 0.3), "ODS");
});

test("ODS pools pixels over images; OIS averages per-image bests", () => {
  // Image A: perfect separation at 0.5. Image B: the blurred pixel scores lower than the sharp one.
  const a = countImage([0.9, 0.1], [true, false]);
  const b = countImage([0.2, 0.6], [true, false]);
  const s = score([a, b]);
  close(s.oisF, (1 + fMeasure(0.5, 1, 0.3)) / 2, "OIS");
  // Pooled, descending: 0.9 blurred, 0.6 sharp, 0.2 blurred, 0.1 sharp. Thresholds give
  // (P, R) = (1, 1/2), (1/2, 1/2), (2/3, 1), (1/2, 1).
  close(s.odsF, Math.max(fMeasure(1, 0.5, 0.3), fMeasure(2 / 3, 1, 0.3)), "ODS");
  close(s.mae, (0.1 + 0.1 + 0.8 + 0.6) / 4, "MAE");
  close(s.ap, 0.5 * 1 + 0.5 * (2 / 3), "AP (step rule: precision where recall rises)");
});

test("β = 1 is reported too, and differs from β² = 0.3 when P ≠ R", () => {
  const s = score([countImage([0.9, 0.8, 0.7, 0.1], [true, false, true, false])]);
  assert.ok(s.odsF1 > 0 && s.odsF1 <= 1);
  assert.ok(Math.abs(s.odsF1 - s.odsF) > 1e-6);
});

test("size mismatch is an error", () => {
  assert.throws(() => countImage([0.1, 0.2], [true]), /map has 2 pixels, mask 1/);
});

test.run();
