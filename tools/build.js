// Builds dist/: the browser bundle (no runtime dependencies), the Node entry,
// the CLI, the browser test page, and type declarations.
import { execFileSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, statSync } from "node:fs";
import { build } from "esbuild";

// First the WebAssembly kernels: src/ imports them as generated modules.
await import("./build-wasm.js");

const common = { bundle: true, format: "esm", target: "es2022", sourcemap: true, logLevel: "warning" };

await Promise.all([
  build({ ...common, entryPoints: ["src/index.ts"], outfile: "dist/blurmap.js", platform: "browser", minify: true }),
  build({ ...common, entryPoints: ["test/browser/page.ts"], outfile: "dist/test-page.js", platform: "browser" }),
  build({ ...common, entryPoints: ["bench/page.ts"], outfile: "dist/bench/bench-page.js", platform: "browser" }),
  build({ ...common, entryPoints: ["demo/main.ts"], outfile: "dist/demo/main.js", platform: "browser", minify: true }),
  build({ ...common, entryPoints: ["demo/serve.ts"], outfile: "dist/demo-server.js", platform: "node", packages: "external" }),
  // The CPU path's worker threads load this file from beside dist/cli.js and dist/node.js.
  build({ ...common, entryPoints: ["src/node/cpu-worker.ts"], outfile: "dist/cpu-worker.js", platform: "node", packages: "external" }),
  build({ ...common, entryPoints: ["src/node.ts"], outfile: "dist/node.js", platform: "node", packages: "external" }),
  build({
    ...common,
    entryPoints: ["src/cli.ts"],
    outfile: "dist/cli.js",
    platform: "node",
    packages: "external",
    banner: { js: "#!/usr/bin/env node" },
  }),
]);
// The demo and bench folders are complete on their own: page, script and the
// weights beside them (and TF.js for the bench, where it is installed), so any
// static server, on any machine, can serve them.
for (const folder of ["demo", "bench"]) {
  mkdirSync(`dist/${folder}/weights`, { recursive: true });
  copyFileSync(`${folder}/index.html`, `dist/${folder}/index.html`);
  for (const f of ["dbm.safetensors", "purohit-patch.safetensors", "purohit-unet.safetensors"])
    if (existsSync(`weights/${f}`)) copyFileSync(`weights/${f}`, `dist/${folder}/weights/${f}`);
}
const tfjs = "node_modules/@tensorflow/tfjs/dist/tf.min.js";
if (existsSync(tfjs)) copyFileSync(tfjs, "dist/bench/tf.min.js");
execFileSync("npx", ["tsc", "--emitDeclarationOnly", "--declaration", "--outDir", "dist/types"], { stdio: "inherit" });
console.log(`dist/blurmap.js: ${statSync("dist/blurmap.js").size} bytes (browser bundle, minified, no runtime dependencies)`);
