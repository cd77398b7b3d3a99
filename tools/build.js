// Builds dist/: the browser bundle (no runtime dependencies), the Node entry,
// the CLI, the browser test page, and type declarations.
import { execFileSync } from "node:child_process";
import { statSync } from "node:fs";
import { build } from "esbuild";

const common = { bundle: true, format: "esm", target: "es2022", sourcemap: true, logLevel: "warning" };

await Promise.all([
  build({ ...common, entryPoints: ["src/index.ts"], outfile: "dist/blurmap.js", platform: "browser", minify: true }),
  build({ ...common, entryPoints: ["test/browser/page.ts"], outfile: "dist/test-page.js", platform: "browser" }),
  build({ ...common, entryPoints: ["bench/page.ts"], outfile: "dist/bench-page.js", platform: "browser" }),
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
execFileSync("npx", ["tsc", "--emitDeclarationOnly", "--declaration", "--outDir", "dist/types"], { stdio: "inherit" });
console.log(`dist/blurmap.js: ${statSync("dist/blurmap.js").size} bytes (browser bundle, minified, no runtime dependencies)`);
