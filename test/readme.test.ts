// The README's embedding example, run as written: extracted from README.md, put in a
// page with an import map that resolves "blurmap" to dist/blurmap.js, served beside
// the shipped DBM weights and a small JPEG, in headless Chromium.
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import jpeg from "jpeg-js";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { startStaticServer } from "../demo/serve.js";
import { readImageFile, shrinkToFit } from "../src/node.js";
import { launchChromium } from "../src/node/chromium.js";
import { ROOT } from "./helpers.js";

const readme = readFileSync(join(ROOT, "README.md"), "utf8");
const section = readme.slice(readme.indexOf("### In a page or in Node"));
const example = /```js\n([\s\S]*?)```/.exec(section)?.[1];

test("README: the embedding example is there and uses the public API", () => {
  assert.ok(example, "no ```js block under 'In a page or in Node'");
  assert.match(example!, 'import { loadModel, blurDegree } from "blurmap"');
});

if (existsSync(join(ROOT, "weights", "dbm.safetensors")))
  test("README: the embedding example runs as written in a page and logs its result", async () => {
    const dir = mkdtempSync(join(tmpdir(), "blurmap-readme-"));
    mkdirSync(join(dir, "weights"));
    copyFileSync(join(ROOT, "dist", "blurmap.js"), join(dir, "blurmap.js"));
    copyFileSync(join(ROOT, "weights", "dbm.safetensors"), join(dir, "weights", "dbm.safetensors"));
    const small = shrinkToFit(readImageFile(join(ROOT, "samples", "sample.png")), 96); // SwiftShader runs the full VGG16: keep it small
    writeFileSync(join(dir, "photo.jpg"), jpeg.encode({ width: small.width, height: small.height, data: Buffer.from(small.data) }, 92).data);
    writeFileSync(
      join(dir, "index.html"),
      `<!doctype html><meta charset="utf-8"><script type="importmap">{"imports": {"blurmap": "./blurmap.js"}}</script>\n<script type="module">\n${example}\nwindow.exampleDone = true;\n</script>`,
    );
    const server = await startStaticServer(dir, 0);
    const browser = await launchChromium();
    try {
      const page = await browser.newPage();
      const logs: string[] = [];
      const errors: string[] = [];
      page.on("console", (m) => logs.push(m.text()));
      page.on("pageerror", (e) => errors.push(String(e)));
      await page.goto(`http://127.0.0.1:${(server.address() as { port: number }).port}/`);
      await page.waitForFunction(`window.exampleDone === true`, { timeout: 240_000 }).catch(() => undefined);
      assert.equal(errors, [], "the example threw");
      const line = logs.find((l) => l.startsWith("blur degree"));
      console.log(`    README example logged: ${line}`);
      assert.match(line ?? "", new RegExp(`^blur degree 0\\.\\d{3}, \\d+ blurred pixels, magnified ${small.width}×${small.height}$`));
    } finally {
      await browser.close();
      server.close();
    }
  });

test.run();
