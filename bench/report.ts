/**
 * The benchmark's options, rows, goals and Markdown table: plain data and pure
 * functions, shared by the Node driver (bench/run.ts) and the page
 * (bench/page.ts), which also runs on its own in any browser (bench/index.html).
 */
import { DEFAULT_TILE_SIZE, type ModelKind } from "../src/model.js";

export interface BenchOptions {
  readonly models: readonly ModelKind[];
  /** null: 256..1024 on a hardware GPU, 256 only on a software renderer. */
  readonly sizes: readonly number[] | null;
  readonly compare: ReadonlySet<"tfjs" | "pytorch">;
  readonly runs: number;
  readonly cpuSize: number;
  /** Also run each model with fp16 storage (RGBA16F textures). */
  readonly fp16: boolean;
  /** Also run DBM at the first size with register blocking capped at each of these pixel counts. */
  readonly blockPixels: readonly number[];
  /** Sizes over this run as tiles, as the model runs them (ModelOptions.tileSize; 0 = never). */
  readonly tileSize: number;
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
  /** Run as tiles of this side (graph/tiling.ts); absent when run in one pass. */
  tile_size?: number;
}

export interface BenchReport {
  device: string;
  date: string;
  peak: { gflops: number; gbps: number; timer_query: boolean };
  results: BenchRow[];
  goals: { goal: string; measured: string; met: boolean }[];
}

export const SIZES = [256, 384, 512, 1024];

export function parseBenchOptions(raw: { model?: string; size?: string; compare?: string; runs?: string; cpuSize?: string; fp16?: boolean; blockPixels?: string; tileSize?: string; json?: string }): BenchOptions {
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
  const blockPixels = list(raw.blockPixels).map(Number);
  for (const p of blockPixels) if (!(Number.isSafeInteger(p) && p >= 1 && p <= 8)) throw new Error(`--block-pixels: each count must be an integer in 1..8, got "${raw.blockPixels}"`);
  const tileSize = raw.tileSize === undefined ? DEFAULT_TILE_SIZE : Number(raw.tileSize);
  if (!(Number.isSafeInteger(tileSize) && tileSize >= 0)) throw new Error(`--tile-size must be a whole number of pixels (0 = never tile), got "${raw.tileSize}"`);
  return {
    models: models as ModelKind[],
    sizes,
    compare: new Set(compare.filter((c) => c !== "none") as ("tfjs" | "pytorch")[]),
    runs,
    cpuSize,
    fp16: raw.fp16 ?? false,
    blockPixels,
    tileSize,
    json: raw.json,
  };
}

/** What the page needs of BenchOptions (structured-clone safe: it crosses page.evaluate). */
export interface BrowserBenchOptions {
  readonly models: readonly ModelKind[];
  readonly sizes: readonly number[] | null;
  readonly tfjs: boolean;
  readonly runs: number;
  readonly fp16: boolean;
  readonly blockPixels: readonly number[];
  readonly tileSize: number;
}

export function browserOptions(o: BenchOptions): BrowserBenchOptions {
  return { models: o.models, sizes: o.sizes, tfjs: o.compare.has("tfjs"), runs: o.runs, fp16: o.fp16, blockPixels: o.blockPixels, tileSize: o.tileSize };
}

/** The browser's share of a run: the peak, the end-to-end and per-layer rows, and each model's memory ratio. */
export interface BrowserBenchResult {
  readonly device: string;
  readonly peak: BenchReport["peak"];
  readonly results: BenchRow[];
  readonly layerRows: BenchRow[];
  /** "model/size" → texture bytes ÷ (weights + the two largest live activations). */
  readonly memoryRatio: Record<string, number>;
}

/**
 * The whole report: the browser's end-to-end rows, then `cpuRows`, then the
 * per-layer rows, and the goals as measured by all of them.
 */
export function assembleReport(browser: BrowserBenchResult, cpuRows: readonly BenchRow[]): BenchReport {
  const report: BenchReport = { device: browser.device, date: new Date().toISOString(), peak: browser.peak, results: [...browser.results, ...cpuRows, ...browser.layerRows], goals: [] };
  report.goals = goals(report, browser.memoryRatio);
  return report;
}

export function row(engine: BenchRow["engine"], backend: BenchRow["backend"], model: string, size: number, first: number | null, median: number, flops: number, peak: number | null, bytes: number | null): BenchRow {
  const gflops = flops > 0 ? flops / median / 1e6 : null;
  return { engine, backend, model, size, ms_first: first, ms_median: median, gflops, peak_fraction: gflops !== null && peak ? gflops / peak : null, peak_bytes: bytes };
}

function find(report: BenchReport, engine: string, backend: string, model: string, size: number): BenchRow | undefined {
  return report.results.find((r) => r.engine === engine && r.backend === backend && r.model === model && r.size === size);
}

/** Each goal of the performance issue, as measured in this run. */
export function goals(report: BenchReport, memoryRatio: Record<string, number>): BenchReport["goals"] {
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
  // End-to-end rows only: not the per-layer rows ("dbm.conv1_1") nor the blocking sweep ("dbm-block4").
  for (const r of report.results.filter((r) => r.engine === "blurmap" && r.backend === "webgl" && `${r.model}/${r.size}` in memoryRatio)) {
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

export function markdown(r: BenchReport): string {
  const f = (v: number | null | undefined, d = 1) => (v === null || v === undefined ? "" : v.toFixed(d));
  const lines = [
    `## blurmap benchmark — ${r.device}`,
    "",
    `${r.date}. Peak of the fragment pipeline in this browser: **${r.peak.gflops.toFixed(1)} GFLOP/s** multiply-add, **${r.peak.gbps.toFixed(1)} GB/s** texture reads. GPU timing: ${r.peak.timer_query ? "EXT_disjoint_timer_query_webgl2 available, but" : "no EXT_disjoint_timer_query_webgl2;"} wall time with a readback fence.`,
    "",
    "| engine | backend | model | size | first run (ms) | median (ms) | GFLOP/s | % of peak | texture MiB | max abs diff |",
    "|---|---|---|---|---:|---:|---:|---:|---:|---:|",
    ...r.results.map((x) => `| ${x.engine} | ${x.backend} | ${x.model} | ${x.size}${x.tile_size ? ` (tiles of ${x.tile_size})` : ""} | ${f(x.ms_first, 0)} | ${f(x.ms_median, x.ms_median < 10 ? 2 : 0)} | ${f(x.gflops, 2)} | ${x.peak_fraction === null ? "" : (100 * x.peak_fraction).toFixed(0)} | ${x.peak_bytes === null ? "" : (x.peak_bytes / 2 ** 20).toFixed(1)} | ${x.max_abs_diff === undefined ? "" : x.max_abs_diff.toExponential(1)} |`),
    "",
    "| goal | measured | met |",
    "|---|---|---|",
    ...r.goals.map((g) => `| ${g.goal} | ${g.measured} | ${g.met ? "yes" : "**no**"} |`),
    "",
  ];
  return lines.join("\n");
}
