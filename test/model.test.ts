// The public API as a caller meets it: loadModel, run, working size, errors, dispose.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { loadModel, shrinkToFit } from "../src/index.js";
import { fixtureBytes, patternImage, rejects } from "./helpers.js";

const DBM = fixtureBytes("dbm-tiny.safetensors");
const PATCH = fixtureBytes("purohit-patch.safetensors");
const UNET = fixtureBytes("purohit-unet.safetensors");

test("loadModel(bytes) in Node defaults to the cpu backend; run gives a map the input's size in [0, 1]", async () => {
  const model = await loadModel(DBM);
  assert.is(model.backend, "cpu");
  assert.is(model.kind, "dbm");
  const { map } = model.run(patternImage(45, 31));
  assert.equal([map.width, map.height, map.data.length], [45, 31, 45 * 31]);
  assert.ok(map.data.every((v) => v >= 0 && v <= 1));
  assert.ok(model.provenance.dbm.includes("TEST FIXTURE"));
});

test("purohit needs both its files, in any order; one alone is refused", async () => {
  const model = await loadModel([UNET, PATCH], { patchStride: 10 });
  assert.is(model.kind, "purohit");
  const { map } = model.run(patternImage(40, 33));
  assert.equal([map.width, map.height], [40, 33]);
  await rejects(() => loadModel(PATCH), /weights for "purohit-patch" make no model/);
  await rejects(() => loadModel([DBM, DBM]), /two weights files for the same model/);
  const small = await loadModel([PATCH, UNET]);
  assert.throws(() => small.run(patternImage(20, 40)), /purohit needs an image at least 30×30 pixels; this one is 20×40/);
});

test("images over the working size are shrunk for the network and the map scaled back", async () => {
  const model = await loadModel(DBM, { workingSize: 64 });
  const big = patternImage(150, 40);
  const { map, tensors } = model.run(big, ["conv1_1"]);
  assert.equal([map.width, map.height], [150, 40]);
  assert.equal([...tensors.get("conv1_1")!.shape], [1, 17, 64, 8], "the network ran at 64×17");
  const native = await loadModel(DBM, { workingSize: 0 });
  assert.equal([...native.run(big, ["conv1_1"]).tensors.get("conv1_1")!.shape], [1, 40, 150, 8]);
  await rejects(() => loadModel(DBM, { workingSize: -1 }), /workingSize must be a whole number/);
});

test("extreme aspect ratio: a 20×4000 strip keeps its short side at the network's minimum and maps at full size", async () => {
  const onePass = await loadModel(DBM, { tileSize: 0 }); // working size 640
  const { map, tensors } = onePass.run(patternImage(20, 4000), ["conv1_1"]);
  assert.equal([map.width, map.height], [20, 4000]);
  assert.equal([...tensors.get("conv1_1")!.shape], [1, 3200, 16, 8], "shrunk by 1.25 only: 16 px is DBM's minimum");
  assert.ok(map.data.every((v) => v >= 0 && v <= 1));
  // 3200 px is over the default tileSize (2048): by default it runs as two tiles, with the same map.
  const tiled = (await loadModel(DBM)).run(patternImage(20, 4000)).map.data;
  assert.ok(tiled.every((v, i) => v === map.data[i]), "tiled and one-pass maps differ");
  const purohit = await loadModel([PATCH, UNET]);
  assert.throws(() => purohit.run(patternImage(29, 4000)), /purohit needs an image at least 30×30 pixels; this one is 29×4000/);
});

test("shrinkToFit averages boxes and keeps the aspect ratio", () => {
  const flat = { width: 400, height: 100, data: new Uint8ClampedArray(400 * 100 * 4).fill(200) };
  const s = shrinkToFit(flat, 100);
  assert.equal([s.width, s.height], [100, 25]);
  assert.ok(s.data.every((v) => v === 200));
  assert.is(shrinkToFit(flat, 400), flat, "already within: unchanged");
});

test("bad images and misuse are clear errors", async () => {
  const model = await loadModel(DBM);
  assert.throws(() => model.run({ width: 10, height: 10, data: new Uint8Array(99) }), /has 99 bytes of pixels, but 10×10 RGBA needs 400/);
  assert.throws(() => model.run({ width: 0, height: 10, data: new Uint8Array(0) }), /size 0×10 is empty/);
  assert.throws(() => model.run(patternImage(12, 12)), /dbm needs an image at least 16×16 pixels; this one is 12×12/);
  assert.throws(() => model.run(patternImage(1, 1)), /dbm needs an image at least 16×16 pixels; this one is 1×1/);
  assert.throws(() => model.run(patternImage(1, 4000)), /dbm needs an image at least 16×16 pixels; this one is 1×4000/);
  model.dispose();
  assert.throws(() => model.run(patternImage(32, 32)), /this model was disposed/);
  await rejects(() => loadModel(DBM, { backend: "metal" as never }), /unknown backend "metal"/);
  await rejects(() => loadModel(new Uint8Array([1, 2, 3])), /weights #1: truncated/);
});

test.run();
