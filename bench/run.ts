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
import type { ModelKind } from "../src/model.js";
import { loadModelFromFiles, PACKAGE_ROOT, useCpuThreads } from "../src/node.js";
import { ChromiumPage } from "../src/node/chromium.js";
import { benchInput, median, nodeFlops } from "./workload.js";

export interface BenchOptions {
  readonly models: readonly ModelKind[];
  /** null: 256..1024 on a hardware GPU, 256 only on a software renderer. */
  readonly sizes: readonly number[] | null;
  readonly compare: ReadonlySet<"tfjs" | "pytorch">;
  readonly runs: number;
  readonly cpuSize: number;
  /** Also run each model with fp16 storage (RGBA16F textures). */
  readonly fp16: boolean;
  readonly json?: string;
}

export interface BenchRow {
  engine: "blurmap" | "tfjs" | "pytorch";
  backend: "webgl" | "cpu";
  model: string;
  size: number;
  ms_first: number | null;
  ms_median: number;
  gflops: number | null;
  peak_fraction: number | null;
  peak_bytes: number | null;
  /** tfjs and fp16: max |output − blurmap fp32's output| over the first 4096 map values. */
  max_abs_diff?: number;
}

export interface BenchReport {
  device: string;
  date: string;
  peak: { gflops: number; gbps: number; timer_query: boolean };
  results: BenchRow[];
  goals: { goal: string; measured: string; met: boolean }[];
}

const SIZES = [256, 384, 512, 1024];

export function parseBenchOptions(raw: { model?: string; size?: string; compare?: string; runs?: string; cpuSize?: string; fp16?: boolean; json?: string }): BenchOptions {
  const list = (s: string | undefined) => (s ?? "").split(",").map((x) => x.trim()).filter(Boolean);
  const models = list(raw.model ?? "dbm,purohit");
  for (const m of models) if (m !== "dbm" && m !== "purohit") throw new Error(`--model: expected dbm and/or purohit, got "${m}"`);
  const sizes = raw.size === undefined ? null : list(raw.size).map(Number);
  for (const s of sizes ?? []) if (!(Number.isSafeInteger(s) && s >= 32 && s <= 4096 && s % 16 === 0)) throw new Error(`--size: each size must be a multiple of 16 in 32..4096, got "${raw.size}"`);
  const compare = list(raw.compare ?? "tfjs,pytorch");
  for (const c of compare) if (c !== "tfjs" && c !== "pytorch" && c !== "none") throw new Error(`--compare: expected tfjs, pytorch or none, got "${c}"`);
  const runs = raw.runs === undefined ? 3 : Number(raw.runs);
  if (!(Number.isSafeInteger(runs) && runs >= 1)) throw new Error(`--runs must be a positive integer, got "${raw.runs}"`);
  const cpuSize = raw.cpuSize === undefined ? 384 : Number(raw.cpuSize);
  if (!(Number.isSafeInteger(cpuSize) && cpuSize >= 16)) throw new Error(`--cpu-size must be an integer ≥ 16, got "${raw.cpuSize}"`);
  return {
    models: models as ModelKind[],
    sizes,
    compare: new Set(compare.filter((c) => c !== "none") as ("tfjs" | "pytorch")[]),
    runs,
    cpuSize,
    fp16: raw.fp16 ?? false,
    json: raw.json,
  };
}

const WEIGHTS = ["dbm.safetensors", "purohit-patch.safetensors", "purohit-unet.safetensors"];
const log = (s: string) => process.stderr.write(`bench: ${s}\n`);

export async function runBench(o: BenchOptions): Promise<BenchReport> {
  for (const w of WEIGHTS) if (!existsSync(join(PACKAGE_ROOT, "weights", w))) throw new Error(`bench needs the shipped weights; weights/${w} is missing`);
  const files = new Map(WEIGHTS.map((w) => [`/weights/${w}`, new Uint8Array(readFileSync(join(PACKAGE_ROOT, "weights", w)))]));
  if (o.compare.has("tfjs")) files.set("/tf.min.js", new Uint8Array(readFileSync(tfjsBundle())));
  const chromium = await ChromiumPage.open(join(PACKAGE_ROOT, "dist", "bench-page.js"), files);
  const call = <T>(fn: string, ...args: unknown[]) => chromium.page.evaluate((f, a) => (window as any).bench[f](...a), fn, args) as Promise<T>;
  const results: BenchRow[] = [];
  const layerRows: BenchRow[] = [];
  const largestPair: Record<string, number> = {};
  let report: BenchReport;
  try {
    const peak = await call<{ renderer: string; timerQuery: boolean; gflops: number; gbps: number }>("peak");
    log(`${peak.renderer}: peak ${peak.gflops.toFixed(1)} GFLOP/s multiply-add, ${peak.gbps.toFixed(1)} GB/s texture reads`);
    const software = /swiftshader|llvmpipe|software/i.test(peak.renderer);
    const sizes = o.sizes ?? (software ? [256] : SIZES);
    if (o.compare.has("tfjs")) await chromium.page.addScriptTag({ url: "/tf.min.js" });
    for (const model of o.models)
      for (const size of sizes) {
        log(`blurmap webgl ${model} ${size}²...`);
        const r = await call<any>("blurmapEndToEnd", model, size, o.runs, size === sizes[0]);
        results.push(row("blurmap", "webgl", model, size, r.msFirst, r.msMedian, r.flops, peak.gflops, r.peakBytes));
        largestPair[`${model}/${size}`] = r.peakBytes / (r.weightBytes + r.largestPairBytes);
        for (const l of r.perLayer) layerRows.push(row("blurmap", "webgl", `${model}.${l.name}`, size, null, l.ms, l.flops, peak.gflops, null));
        if (o.fp16) {
          log(`blurmap webgl ${model} ${size}² fp16...`);
          const h = await call<any>("blurmapEndToEnd", model, size, o.runs, false, "fp16");
          const diff = h.output.reduce((m: number, v: number, i: number) => Math.max(m, Math.abs(v - r.output[i])), 0);
          results.push({ ...row("blurmap", "webgl", `${model}-fp16`, size, h.msFirst, h.msMedian, h.flops, peak.gflops, h.peakBytes), max_abs_diff: diff });
          largestPair[`${model}-fp16/${size}`] = h.peakBytes / (h.weightBytes + h.largestPairBytes);
        }
        if (model === "dbm" && o.compare.has("tfjs")) {
          log(`tfjs webgl dbm ${size}²...`);
          const t = await call<any>("tfjsEndToEnd", size, o.runs);
          const diff = t.output.reduce((m: number, v: number, i: number) => Math.max(m, Math.abs(v - r.output[i])), 0);
          results.push({ ...row("tfjs", "webgl", "dbm", size, t.msFirst, t.msMedian, r.flops, peak.gflops, t.numBytes), max_abs_diff: diff });
        }
      }
    report = { device: peak.renderer, date: new Date().toISOString(), peak: { gflops: peak.gflops, gbps: peak.gbps, timer_query: peak.timerQuery }, results, goals: [] };
  } finally {
    await chromium.close();
  }
  // The CPU rows run with Chromium closed, so that nothing else shares the cores.
  if (o.models.includes("dbm")) await cpuRows(o, results);
  report.results.push(...layerRows);
  report.goals = goals(report, largestPair);
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

function row(engine: BenchRow["engine"], backend: BenchRow["backend"], model: string, size: number, first: number | null, median: number, flops: number, peak: number | null, bytes: number | null): BenchRow {
  const gflops = flops > 0 ? flops / median / 1e6 : null;
  return { engine, backend, model, size, ms_first: first, ms_median: median, gflops, peak_fraction: gflops !== null && peak ? gflops / peak : null, peak_bytes: bytes };
}

/**
 * Our CPU path on DBM here in Node (the SIMD convolution, first run and median;
 * then the reference loops once, as "dbm-reference"), and PyTorch CPU in a
 * subprocess when it is installed; same graph, weights, size and cores.
 */
async function cpuRows(o: BenchOptions, results: BenchRow[]): Promise<void> {
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
  results.push(row("blurmap", "cpu", "dbm", size, runs[0].ms, median(runs.slice(1).map((r) => r.ms)), flops, null, null));
  results.push({ ...row("blurmap", "cpu", "dbm-reference", size, reference.ms, reference.ms, flops, null, null), max_abs_diff: diff });
  if (!o.compare.has("pytorch")) return;
  const python = ["/usr/bin/python3", "python3"].find((p) => p === "python3" || existsSync(p))!;
  try {
    log(`pytorch cpu dbm ${size}²...`);
    const out = execFileSync(python, [join(PACKAGE_ROOT, "bench", "pytorch_dbm.py"), "--weights", join(PACKAGE_ROOT, "weights", "dbm.safetensors"), "--size", String(size), "--runs", String(o.runs)], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
    const r = JSON.parse(out.trim().split("\n").pop()!);
    results.push(row("pytorch", "cpu", "dbm", size, r.ms_first, r.ms_median, flops, null, null));
  } catch (e) {
    log(`PyTorch not run (${(e as Error).message.split("\n")[0]}); the CPU comparison is ours alone`);
  }
}

function find(report: BenchReport, engine: string, backend: string, model: string, size: number): BenchRow | undefined {
  return report.results.find((r) => r.engine === engine && r.backend === backend && r.model === model && r.size === size);
}

/** Each goal of the performance issue, as measured in this run. */
function goals(report: BenchReport, memoryRatio: Record<string, number>): BenchReport["goals"] {
  const out: BenchReport["goals"] = [];
  const sizes = [...new Set(report.results.filter((r) => r.engine === "tfjs").map((r) => r.size))];
  for (const size of sizes) {
    const ours = find(report, "blurmap", "webgl", "dbm", size)!;
    const tf = find(report, "tfjs", "webgl", "dbm", size)!;
    const ratio = tf.ms_median / ours.ms_median;
    out.push({ goal: `DBM ${size}² ≥ 2× faster than TF.js WebGL`, measured: `${ratio.toFixed(2)}×`, met: ratio >= 2 });
  }
  const layers = report.results.filter((r) => r.model.includes(".") && r.peak_fraction !== null && (r.gflops ?? 0) > 0);
  const convs = layers.filter((r) => !r.model.endsWith("fc") && !r.model.includes("score"));
  if (convs.length) {
    const fractions = convs.map((r) => r.peak_fraction!).sort((a, b) => a - b);
    out.push({ goal: "conv layers ≥ 60% of the multiply-add peak", measured: `min ${(100 * fractions[0]).toFixed(0)}%, median ${(100 * fractions[Math.floor(fractions.length / 2)]).toFixed(0)}%, max ${(100 * fractions[fractions.length - 1]).toFixed(0)}%`, met: fractions[0] >= 0.6 });
  }
  for (const r of report.results.filter((r) => r.engine === "blurmap" && r.backend === "webgl" && !r.model.includes("."))) {
    const overhead = (r.ms_first! - r.ms_median) / r.ms_median;
    out.push({ goal: `${r.model} ${r.size}² first-run overhead ≤ 2× a steady run`, measured: `${overhead.toFixed(2)}×`, met: overhead <= 2 });
    const m = memoryRatio[`${r.model}/${r.size}`];
    out.push({ goal: `${r.model} ${r.size}² texture bytes ≤ 1.5× (weights + two largest live activations)`, measured: `${m.toFixed(2)}×`, met: m <= 1.5 });
  }
  const cpu = report.results.find((r) => r.engine === "blurmap" && r.backend === "cpu" && r.model === "dbm");
  const torch = report.results.find((r) => r.engine === "pytorch");
  if (cpu && torch) out.push({ goal: `CPU DBM ${cpu.size}² within 5× of PyTorch CPU`, measured: `${(cpu.ms_median / torch.ms_median).toFixed(1)}× slower`, met: cpu.ms_median <= 5 * torch.ms_median });
  const webgl = report.results.filter((r) => r.engine === "blurmap" && r.backend === "webgl" && r.model === "dbm").sort((a, b) => a.size - b.size);
  if (webgl.length > 1) {
    const perMp = webgl.map((r) => r.ms_median / ((r.size * r.size) / 1e6));
    const spread = Math.max(...perMp) / Math.min(...perMp);
    out.push({ goal: "no cliff: DBM time per pixel flat across sizes", measured: `ms per megapixel ${perMp.map((v) => v.toFixed(0)).join(", ")} (${webgl.map((r) => r.size).join(", ")})`, met: spread <= 1.5 });
  }
  return out;
}

function markdown(r: BenchReport): string {
  const f = (v: number | null | undefined, d = 1) => (v === null || v === undefined ? "" : v.toFixed(d));
  const lines = [
    `## blurmap benchmark — ${r.device}`,
    "",
    `${r.date}. Peak of the fragment pipeline in this browser: **${r.peak.gflops.toFixed(1)} GFLOP/s** multiply-add, **${r.peak.gbps.toFixed(1)} GB/s** texture reads. GPU timing: ${r.peak.timer_query ? "EXT_disjoint_timer_query_webgl2 available, but" : "no EXT_disjoint_timer_query_webgl2;"} wall time with a readback fence.`,
    "",
    "| engine | backend | model | size | first run (ms) | median (ms) | GFLOP/s | % of peak | texture MiB | max abs diff |",
    "|---|---|---|---|---:|---:|---:|---:|---:|---:|",
    ...r.results.map((x) => `| ${x.engine} | ${x.backend} | ${x.model} | ${x.size} | ${f(x.ms_first, 0)} | ${f(x.ms_median, x.ms_median < 10 ? 2 : 0)} | ${f(x.gflops, 2)} | ${x.peak_fraction === null ? "" : (100 * x.peak_fraction).toFixed(0)} | ${x.peak_bytes === null ? "" : (x.peak_bytes / 2 ** 20).toFixed(1)} | ${x.max_abs_diff === undefined ? "" : x.max_abs_diff.toExponential(1)} |`),
    "",
    "| goal | measured | met |",
    "|---|---|---|",
    ...r.goals.map((g) => `| ${g.goal} | ${g.measured} | ${g.met ? "yes" : "**no**"} |`),
    "",
  ];
  return lines.join("\n");
}
