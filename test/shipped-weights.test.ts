// The shipped weights, run by the engine, against PyTorch on the checkpoints
// they were converted from: crops of three real photos from
// ../shared/datasets/real_blur (read from there, never copied). fp16 weights
// vs fp32 PyTorch: max abs error on the blur map ≤ 2e-3 (issue #3).
import { existsSync } from "node:fs";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import type { Tensor } from "../src/kernels/kernel.js";
import { defaultWeightPaths, loadModelFromFiles, readImageFile } from "../src/node.js";
import type { RgbaImage } from "../src/image/preprocess.js";
import { assertClose, fixture, ROOT } from "./helpers.js";

const FP16_WEIGHTS_TOLERANCE = { abs: 2e-3, rel: 0 };
const REAL_BLUR = join(ROOT, "..", "shared", "datasets", "real_blur");
// Written by tools/train/shipped_fixture.py when weights are shipped; absent before.
const maps = existsSync(join(ROOT, "test", "fixtures", "shipped-maps.safetensors")) ? fixture("shipped-maps.safetensors") : null;
if (!maps) {
  test("no weights are shipped: the CLI must fall back to fixtures, loudly", () => {
    for (const kind of ["dbm", "purohit"] as const) assert.ok(defaultWeightPaths(kind).fixture, `weights/ holds ${kind} weights but no shipped-maps fixture checks them`);
  });
}
const cases: { name: string; file: string; top: number; left: number; height: number; width: number; rgba_sum: number }[] = maps ? JSON.parse(maps.metadata.cases) : [];

function crop(image: RgbaImage, top: number, left: number, height: number, width: number): RgbaImage {
  const data = new Uint8Array(width * height * 4);
  for (let y = 0; y < height; y++) data.set(image.data.subarray(((top + y) * image.width + left) * 4, ((top + y) * image.width + left + width) * 4), y * width * 4);
  return { width, height, data };
}

for (const kind of ["dbm", "purohit"] as const) {
  if (!maps || !cases.some((c) => maps.tensors.has(`${kind}.${c.name}`))) continue; // no checkpoint of this model was shipped
  test(`shipped ${kind} weights == PyTorch on three real-photo crops`, () => {
    const { paths, fixture: isFixture } = defaultWeightPaths(kind);
    assert.not.ok(isFixture, `weights/ lacks the shipped ${kind} weights that test/fixtures/shipped-maps.safetensors was made from`);
    assert.ok(existsSync(REAL_BLUR), `${REAL_BLUR} is missing (the shared datasets sit beside the repository)`);
    const model = loadModelFromFiles(paths, { backend: "cpu", patchStride: Number(maps!.metadata.patch_stride) });
    for (const c of cases) {
      const image = crop(readImageFile(join(REAL_BLUR, c.file)), c.top, c.left, c.height, c.width);
      let sum = 0;
      for (const v of image.data) sum += v;
      assert.is(sum, c.rgba_sum, `${c.file}: the decoded crop differs from the one PyTorch saw`);
      const { map } = model.run(image);
      const expected = maps!.tensors.get(`${kind}.${c.name}`)!;
      const asTensor = (data: Float32Array): Tensor => ({ shape: [1, c.height, c.width, 1], data });
      const err = assertClose(`${kind} ${c.name}`, asTensor(map.data), asTensor(expected.data), FP16_WEIGHTS_TOLERANCE);
      console.log(`    shipped ${kind} vs pytorch on ${c.file} crop: max abs err ${err.toExponential(2)}`);
    }
  });
}

test.run();
