// The demo page: pick or drop a photo, see its blur map as a heat overlay, the
// MRF segmentation, the blur degree and where the time went. Weights are
// fetched from ./weights/ beside the page; nothing leaves the browser.
// window.demo exposes the last result for the browser test.
import { blurDegree, loadModel, type Backend, type BlurMapModel, type ModelKind } from "../src/index.js";

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const WEIGHTS: Record<ModelKind, string[]> = { dbm: ["dbm.safetensors"], purohit: ["purohit-patch.safetensors", "purohit-unet.safetensors"] };

interface DemoResult {
  width: number;
  height: number;
  map: Float32Array;
  mask: Uint8Array;
  degree: number;
  backend: string;
  device: string;
  timings: Record<string, number>;
}

const state: { model: BlurMapModel | null; key: string; loadMs: number; photo: ImageData | null; result: DemoResult | null; busy: Promise<void> } = { model: null, key: "", loadMs: 0, photo: null, result: null, busy: Promise.resolve() };
(window as any).demo = { get result() { return state.result; }, runs: 0, error: "" };

const params = new URLSearchParams(location.search);
for (const id of ["model", "backend", "working"]) if (params.has(id)) $<HTMLSelectElement>(id).value = params.get(id)!;

function status(text: string, error = false): void {
  $("status").textContent = text;
  $("status").className = error ? "error" : "";
  if (error) (window as any).demo.error = text;
}

async function currentModel(): Promise<BlurMapModel> {
  const kind = $<HTMLSelectElement>("model").value as ModelKind;
  const backend = $<HTMLSelectElement>("backend").value as Backend;
  const workingSize = Number($<HTMLSelectElement>("working").value);
  const key = `${kind}/${backend}/${workingSize}`;
  if (state.model && state.key === key) return state.model;
  state.model?.dispose();
  state.model = null;
  status(`Loading ${kind} weights…`);
  const started = performance.now();
  state.model = await loadModel(WEIGHTS[kind].map((f) => new URL(`./weights/${f}`, location.href)), { backend, workingSize });
  state.loadMs = performance.now() - started;
  state.key = key;
  return state.model;
}

async function photoFrom(file: Blob): Promise<ImageData> {
  const bitmap = await createImageBitmap(file, { imageOrientation: "from-image" });
  const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
  const ctx = canvas.getContext("2d", { willReadFrequently: true })!;
  ctx.drawImage(bitmap, 0, 0);
  return ctx.getImageData(0, 0, bitmap.width, bitmap.height, { colorSpace: "srgb" });
}

async function analyse(): Promise<void> {
  if (!state.photo) return;
  const photo = state.photo;
  try {
    const model = await currentModel();
    status(`Running ${model.kind} on ${model.backend}…`);
    await new Promise((r) => setTimeout(r, 30)); // let the status paint before the GPU is busy
    let started = performance.now();
    const seg = model.segment(photo);
    const total = performance.now() - started;
    const timings: Record<string, number> = { "load weights": state.loadMs, network: total - seg.mrfMs, "MRF (mean-field)": seg.mrfMs };
    state.result = { width: photo.width, height: photo.height, map: seg.map.data, mask: seg.mask.data, degree: blurDegree(seg.map), backend: model.backend, device: model.device, timings };
    started = performance.now();
    draw();
    timings.draw = performance.now() - started;
    showInfo(state.result);
    status(`Done: ${model.kind} on ${model.backend === "webgl" ? `WebGL (${model.device})` : "the CPU"}.`);
    (window as any).demo.runs++;
  } catch (e) {
    status(`Failed: ${(e as Error).message}`, true);
  }
}

/** Inferno-like ramp: dark blue (sharp) to yellow (blurred). */
const RAMP = [[13, 8, 135], [126, 3, 168], [204, 71, 120], [248, 149, 64], [240, 249, 33]];
function heat(v: number): number[] {
  const x = Math.min(Math.max(v, 0), 1) * (RAMP.length - 1);
  const i = Math.min(Math.floor(x), RAMP.length - 2);
  const t = x - i;
  return RAMP[i].map((c, k) => c + (RAMP[i + 1][k] - c) * t);
}

function draw(): void {
  const r = state.result;
  const photo = state.photo;
  if (!r || !photo) return;
  const alpha = Number($<HTMLInputElement>("opacity").value) / 100;
  const heatImage = new ImageData(r.width, r.height);
  const segImage = new ImageData(r.width, r.height);
  for (let p = 0; p < r.width * r.height; p++) {
    const h = heat(r.map[p]);
    const x = p % r.width;
    const y = (p - x) / r.width;
    const edge = (x + 1 < r.width && r.mask[p] !== r.mask[p + 1]) || (y + 1 < r.height && r.mask[p] !== r.mask[p + r.width]);
    for (let c = 0; c < 3; c++) {
      const v = photo.data[p * 4 + c];
      heatImage.data[p * 4 + c] = v * (1 - alpha) + h[c] * alpha;
      segImage.data[p * 4 + c] = edge ? [255, 150, 0][c] : r.mask[p] ? v * 0.35 : v;
    }
    heatImage.data[p * 4 + 3] = 255;
    segImage.data[p * 4 + 3] = 255;
  }
  for (const [id, image] of [["heat", heatImage], ["segment", segImage]] as const) {
    const canvas = $<HTMLCanvasElement>(id);
    canvas.width = r.width;
    canvas.height = r.height;
    canvas.getContext("2d")!.putImageData(image, 0, 0);
  }
}

function showInfo(r: DemoResult): void {
  $("degree").textContent = r.degree.toFixed(3);
  const rows: [string, string][] = [
    ["image", `${r.width}×${r.height}`],
    ["backend", r.backend === "webgl" ? `WebGL2 — ${r.device}` : "CPU"],
    ...Object.entries(r.timings).map(([k, v]) => [k, `${v.toFixed(0)} ms`] as [string, string]),
  ];
  $("timings").replaceChildren(...rows.map(([k, v]) => {
    const tr = document.createElement("tr");
    tr.append(Object.assign(document.createElement("td"), { textContent: k }), Object.assign(document.createElement("td"), { textContent: v }));
    return tr;
  }));
}

async function take(file: File | undefined): Promise<void> {
  if (!file) return;
  try {
    state.photo = await photoFrom(file);
  } catch {
    status(`${file.name}: not an image this browser can decode`, true);
    return;
  }
  state.busy = state.busy.then(analyse);
}

$<HTMLInputElement>("file").addEventListener("change", (e) => take((e.target as HTMLInputElement).files?.[0]));
$<HTMLInputElement>("opacity").addEventListener("input", draw);
for (const id of ["model", "backend", "working"]) $(id).addEventListener("change", () => (state.busy = state.busy.then(analyse)));
const drop = $("drop");
drop.addEventListener("dragover", (e) => {
  e.preventDefault();
  drop.classList.add("over");
});
drop.addEventListener("dragleave", () => drop.classList.remove("over"));
drop.addEventListener("drop", (e) => {
  e.preventDefault();
  drop.classList.remove("over");
  void take(e.dataTransfer?.files[0]);
});
currentModel().then(
  () => status("Ready: pick or drop a photo."),
  (e) => status(`Cannot load the model: ${(e as Error).message}. Serve this folder over HTTP (npm run demo) with the weights in ./weights/.`, true),
);
