// The benchmark page on its own (dist/bench/index.html?run), as it runs in a
// browser on a real GPU with no Node beside it: served statically, it runs
// blurmap and TF.js on DBM, the blocking sweep and every layer, and shows the
// Markdown table, whose rows are checked here.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { type PageContext, ROOT, servePages } from "./helpers.js";

const bench = suite<PageContext>("bench page");

servePages(bench, join(ROOT, "dist", "bench"));

if (existsSync(join(ROOT, "weights", "dbm.safetensors")))
  bench("standalone run: DBM 32² with TF.js and the blocking sweep, every conv layer, the goals", async ({ server, browser }) => {
    const page = await browser!.newPage();
    const port = (server!.address() as { port: number }).port;
    await page.goto(`http://127.0.0.1:${port}/index.html?run&model=dbm&size=32&runs=1&block-pixels=1,8`);
    await page.waitForFunction(`document.getElementById("table").textContent.length > 0 || document.getElementById("log").textContent.includes("failed:")`, { timeout: 300_000 });
    const log = await page.evaluate(`document.getElementById("log").textContent`);
    const table = (await page.evaluate(`document.getElementById("table").textContent`)) as string;
    assert.not.match(log as string, "failed:");
    assert.match(log as string, /peak [\d.]+ GFLOP\/s multiply-add/);
    const rows = new Map(
      table
        .split("\n")
        .filter((l) => /^\| (blurmap|tfjs) \|/.test(l))
        .map((l) => l.split("|").map((c) => c.trim()))
        .map((c) => [`${c[1]} ${c[3]} ${c[4]}`, { median: Number(c[6]), diff: c[10] === "" ? null : Number(c[10]) }]),
    );
    for (const key of ["blurmap dbm 32", "tfjs dbm 32", "blurmap dbm-block1 32", "blurmap dbm-block8 32", "blurmap dbm.conv1_1 32", "blurmap dbm.conv5_3 32", "blurmap dbm.score 32"])
      assert.ok(rows.get(key)?.median! > 0, `row "${key}" with a time: ${table}`);
    const tfjs = rows.get("tfjs dbm 32")!;
    assert.ok(tfjs.diff !== null && tfjs.diff < 1e-4, `TF.js vs blurmap max abs diff ${tfjs.diff}`);
    assert.match(table, "| DBM 32² ≥ 2× faster than TF.js WebGL |");
    console.log(`    bench page: ${rows.size} rows; blurmap ${rows.get("blurmap dbm 32")!.median} ms, TF.js ${tfjs.median} ms (max abs diff ${tfjs.diff})`);
  });

bench.run();
