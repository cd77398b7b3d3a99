/**
 * The benchmark driver (`npm run bench`, `blurmap bench`): launches headless
 * Chromium on bench/page.ts, runs blurmap and (optionally) TensorFlow.js
 * there, then the CPU path here and PyTorch in a subprocess, and prints one
 * Markdown table (and writes JSON) from that single run. See bench/README.md.
 */
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { runCpu } from "../src/graph/cpu-executor.js";
import type { CpuConv } from "../src/kernels/kernel.js";
import { loadModelFromFiles, PACKAGE_ROOT, useCpuThreads } from "../src/node.js";
import { ChromiumPage } from "../src/node/chromium.js";
import { assembleReport, type BenchOptions, type BenchReport, type BenchRow, browserOptions, type BrowserBenchResult, markdown, row } from "./report.js";
import { benchInput, median, nodeFlops } from "./workload.js";

export { parseBenchOptions } from "./report.js";

const WEIGHTS = ["dbm.safetensors", "purohit-patch.safetensors", "purohit-unet.safetensors"];
const log = (s: string) => process.stderr.write(`bench: ${s}\n`);

export async function runBench(o: BenchOptions): Promise<BenchReport> {
  for (const w of WEIGHTS) if (!existsSync(join(PACKAGE_ROOT, "weights", w))) throw new Error(`bench needs the shipped weights; weights/${w} is missing`);
  const files = new Map(WEIGHTS.map((w) => [`/weights/${w}`, new Uint8Array(readFileSync(join(PACKAGE_ROOT, "weights", w)))]));
  if (o.compare.has("tfjs")) files.set("/tf.min.js", new Uint8Array(readFileSync(tfjsBundle())));
  const chromium = await ChromiumPage.open(join(PACKAGE_ROOT, "dist", "bench", "bench-page.js"), files);
  // The page logs its progress as "bench: …" lines; pass them on as they come.
  chromium.page.on("console", (m) => {
    if (m.text().startsWith("bench: ")) process.stderr.write(`${m.text()}\n`);
  });
  let browser: BrowserBenchResult;
  try {
    if (o.compare.has("tfjs")) await chromium.page.addScriptTag({ url: "/tf.min.js" });
    browser = await chromium.page.evaluate((opts) => (window as any).bench.browserBench(opts), browserOptions(o));
  } finally {
    await chromium.close();
  }
  // The CPU rows run with Chromium closed, so that nothing else shares the cores.
  const report = assembleReport(browser, o.models.includes("dbm") ? await cpuRows(o) : []);
  process.stdout.write(markdown(report));
  if (o.json) {
    writeFileSync(o.json, `${JSON.stringify(report, null, 2)}\n`);
    log(`wrote ${o.json}`);
  }
  return report;
}

function tfjsBundle(): string {
  try {
    return join(createRequire(import.meta.url).resolve("@tensorflow/tfjs/package.json"), "..", "dist", "tf.min.js");
  } catch {
    throw new Error("--compare tfjs needs @tensorflow/tfjs (a dev dependency: npm install)");
  }
}

/**
 * Our CPU path on DBM here in Node (the SIMD convolution, first run and median;
 * then the reference loops once, as "dbm-reference"), and PyTorch CPU in a
 * subprocess when it is installed; same graph, weights, size and cores.
 */
async function cpuRows(o: BenchOptions): Promise<BenchRow[]> {
  const size = o.cpuSize;
  const { graph, params } = loadModelFromFiles([join(PACKAGE_ROOT, "weights", "dbm.safetensors")]).graph(size, size);
  const flops = graph.nodes.reduce((s, n) => s + nodeFlops(n, graph), 0);
  const input = benchInput(size);
  const threads = useCpuThreads();
  await new Promise((resolve) => setTimeout(resolve, 2000)); // let the workers start
  const time = (conv: CpuConv) => {
    const started = performance.now();
    const out = runCpu(graph, params, [input], [], { conv }).get(graph.output)!;
    return { ms: performance.now() - started, out: out.data };
  };
  log(`blurmap cpu (simd) dbm ${size}², ${threads.threads} threads, ${o.runs + 1} runs...`);
  const runs = Array.from({ length: o.runs + 1 }, () => time("simd"));
  log(`blurmap cpu (reference) dbm ${size}², ${threads.threads} threads (one run: the reference loops are slow)...`);
  const reference = time("reference");
  await threads.close();
  const simd = runs[0].out;
  const diff = reference.out.reduce((m, v, i) => Math.max(m, Math.abs(v - simd[i])), 0);
  const results: BenchRow[] = [
    row("blurmap", "cpu", "dbm", size, runs[0].ms, median(runs.slice(1).map((r) => r.ms)), flops, null, null),
    { ...row("blurmap", "cpu", "dbm-reference", size, reference.ms, reference.ms, flops, null, null), max_abs_diff: diff },
  ];
  if (!o.compare.has("pytorch")) return results;
  const python = ["/usr/bin/python3", "python3"].find((p) => p === "python3" || existsSync(p))!;
  try {
    log(`pytorch cpu dbm ${size}²...`);
    const out = execFileSync(python, [join(PACKAGE_ROOT, "bench", "pytorch_dbm.py"), "--weights", join(PACKAGE_ROOT, "weights", "dbm.safetensors"), "--size", String(size), "--runs", String(o.runs)], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
    const r = JSON.parse(out.trim().split("\n").pop()!);
    results.push(row("pytorch", "cpu", "dbm", size, r.ms_first, r.ms_median, flops, null, null));
  } catch (e) {
    log(`PyTorch not run (${(e as Error).message.split("\n")[0]}); the CPU comparison is ours alone`);
  }
  return results;
}
