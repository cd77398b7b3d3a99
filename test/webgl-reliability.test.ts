// WebGL reliability in headless Chromium: no GL object leaks over 200 runs and
// none left after dispose(), bit-identical repeat runs, a lost context that
// fails one run clearly and works again once restored, and clear errors where
// WebGL2 or float render targets are missing.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { ChromiumPage } from "../src/node/chromium.js";
import { FIXTURES, ROOT } from "./helpers.js";

const gl = suite<{ page?: ChromiumPage }>("webgl reliability");
const SHIPPED = ["dbm.safetensors", "purohit-patch.safetensors", "purohit-unet.safetensors"].filter((f) => existsSync(join(ROOT, "weights", f)));
const call = (ctx: { page?: ChromiumPage }, fn: string, ...args: unknown[]) =>
  ctx.page!.page.evaluate((f, a) => (window as any).reliability[f](...a), fn, args) as Promise<any>;

gl.before(async (ctx) => {
  const files = new Map(readdirSync(FIXTURES).map((f) => [`/fixtures/${f}`, new Uint8Array(readFileSync(join(FIXTURES, f)))]));
  for (const f of SHIPPED) files.set(`/weights/${f}`, new Uint8Array(readFileSync(join(ROOT, "weights", f))));
  ctx.page = await ChromiumPage.open(join(ROOT, "dist", "test-page.js"), files);
});
gl.after(async (ctx) => {
  await ctx.page?.close();
});

for (const kind of ["dbm", "purohit"]) {
  gl(`${kind}: 200 runs keep live textures, framebuffers, programs and shaders flat; dispose() frees them all`, async (ctx) => {
    const r = await call(ctx, "leaks", kind, 200);
    console.log(`    leaks ${kind}: before ${JSON.stringify(r.before)}, after run 1 ${JSON.stringify(r.afterFirst)}, after run 200 ${JSON.stringify(r.afterAll)}, after dispose ${JSON.stringify(r.afterDispose)}`);
    assert.equal(r.afterAll, r.afterFirst, "GL objects grew between run 1 and run 200");
    assert.is(r.texturesCreatedLater, 0, "textures created after the first run");
    assert.ok(r.afterFirst.Texture > r.before.Texture, "the model did make textures");
    for (const kind of ["Texture", "Framebuffer", "Program", "Shader"]) assert.is(r.afterDispose[kind], r.before[kind], `${kind}s left after dispose()`);
  });
  gl(`${kind}: the same input twice gives bit-identical maps`, async (ctx) => {
    const r = await call(ctx, "determinism", kind);
    assert.ok(r.identical && r.length > 0, JSON.stringify(r));
  });
}

// A texture made and freed on every run leaks nothing, so the count above cannot
// see it: count creations instead, on the shipped models, whose register-blocked
// convs need scratch textures of exactly one size (the likeliest to miss the pool).
for (const [kind, width, height] of [["purohit", 96, 80], ["dbm", 96, 80]] as const)
  if (SHIPPED.length === 3)
    gl(`shipped ${kind} ${width}×${height}: after the first run, no run creates a texture`, async (ctx) => {
      const r = await call(ctx, "leaks", kind, 4, true, width, height);
      assert.is(r.texturesCreatedLater, 0, `${r.texturesCreatedLater} textures created over runs 2–4`);
      assert.equal(r.afterAll, r.afterFirst);
    });

gl("a lost WebGL context fails the run with a clear error; after restore the next run is right", async (ctx) => {
  const r = await call(ctx, "contextLoss");
  console.log(`    context loss: "${r.lostError.slice(0, 60)}...", after restore max abs err ${r.maxAbsError}`);
  assert.match(r.lostError, "the WebGL context was lost");
  assert.ok(r.afterRestoreOk, `after restore: max abs err ${r.maxAbsError}`);
});

gl("no WebGL2, or no EXT_color_buffer_float: a clear error, and the CPU backend still works", async (ctx) => {
  const r = await call(ctx, "missingFeatures");
  assert.match(r.noWebGL2, "gives no WebGL2 context (use the 'cpu' backend instead)");
  assert.match(r.noFloat, "lacks EXT_color_buffer_float");
  assert.ok(r.cpuStillRuns);
});

gl("a shader the driver rejects: the error names the shader and carries the driver's log", async (ctx) => {
  const message: string = await call(ctx, "shaderFailure");
  console.log(`    shader failure: ${JSON.stringify(message.slice(0, 160))}`);
  assert.match(message, 'shader "broken" failed to build');
  assert.match(message, /'no_such_variable' *: *undeclared identifier/i, "the compiler's own diagnosis, not just the source");
});

gl("an image over MAX_TEXTURE_SIZE at native size: a clear error stating the limit, and the model still runs", async (ctx) => {
  const r = await call(ctx, "overTextureLimit");
  console.log(`    over the texture limit: "${r.error}"`);
  assert.match(r.error, `over this GPU's MAX_TEXTURE_SIZE of ${r.maxTextureSize}`);
  assert.ok(r.afterOk);
});

gl.run();
