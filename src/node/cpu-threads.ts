/**
 * Worker threads for the CPU path in Node: each convolution's output rows are
 * split across the cores. Outputs are allocated in SharedArrayBuffers, so a
 * conv whose input came from another conv shares it as it is; other inputs, and
 * each layer's blocked weights (once), are copied into shared memory. The main
 * thread computes its own share, then blocks on Atomics.wait until the workers
 * are done, so model.run stays synchronous. Every output element is computed by
 * exactly the same loop as on one thread, so the results are bit-identical.
 */
import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import { setConvRowRunner, runConvRows, type ConvJob, type ConvRowRunner, type ConvTask } from "../kernels/conv2d.js";

/** Below this many multiply-adds a layer is not worth the hand-off. */
const MIN_PARALLEL_MACS = 2e6;

export interface CpuThreads {
  readonly threads: number;
  /** Workers started and ready now (up to threads − 1). */
  ready(): number;
  /** Convolutions split across threads so far. */
  splitLayers(): number;
  /** Stops the workers and puts the single-threaded loop back. */
  close(): Promise<void>;
}

/** Starts `threads − 1` workers (default: one per core) and routes every CPU convolution through them. */
export function useCpuThreads(threads = availableParallelism()): CpuThreads {
  if (!(Number.isSafeInteger(threads) && threads >= 1)) throw new Error(`blurmap: CPU threads must be a positive integer, got ${threads}`);
  // A worker is used only once it has said it is ready, so one that failed to
  // start can never leave the main thread waiting for it.
  const ready = new Int32Array(new SharedArrayBuffer(4 * Math.max(1, threads - 1)));
  const workers = Array.from({ length: threads - 1 }, (_, i) => startWorker(ready, i));
  // [0]: workers done with the current job; [1]: 1 when one of them failed.
  const control = new Int32Array(new SharedArrayBuffer(8));
  let split = 0;
  const runner: ConvRowRunner = (task) => {
    const [n, oh, ow, cout] = task.outShape;
    const rows = n * oh;
    const macs = rows * ow * cout * task.x.shape[3] * task.attrs.kernel[0] * task.attrs.kernel[1];
    const helpers = workers.filter((_, i) => Atomics.load(ready, i) === 1);
    if (helpers.length === 0 || rows < 2 || macs < MIN_PARALLEL_MACS) {
      const out = new Float32Array(rows * ow * cout);
      runConvRows({ ...task, out }, 0, rows);
      return out;
    }
    split++;
    const job = shareTask(task);
    const parts = Math.min(helpers.length + 1, rows);
    const bound = (k: number) => Math.round((k * rows) / parts);
    Atomics.store(control, 0, 0);
    Atomics.store(control, 1, 0);
    for (let k = 1; k < parts; k++) helpers[k - 1].postMessage({ job, start: bound(k), end: bound(k + 1), control });
    runConvRows(job, 0, bound(1));
    for (let done = Atomics.load(control, 0); done < parts - 1; done = Atomics.load(control, 0)) Atomics.wait(control, 0, done);
    if (Atomics.load(control, 1)) throw new Error("blurmap: a CPU worker thread failed during a convolution");
    return job.out;
  };
  const previous = setConvRowRunner(runner);
  return {
    threads,
    ready: () => workers.filter((_, i) => Atomics.load(ready, i) === 1).length,
    splitLayers: () => split,
    async close() {
      setConvRowRunner(previous);
      await Promise.all(workers.map((w) => w.terminate()));
    },
  };
}

function startWorker(ready: Int32Array, index: number): Worker {
  const workerData = { ready, index };
  // From dist/ the worker is its own bundle beside this one. From source (tests,
  // tsx) it is the .ts file, loaded through tsx's hooks registered in the worker.
  const worker = import.meta.url.endsWith(".ts")
    ? new Worker(`import("tsx/esm/api").then(({ tsImport }) => tsImport(${JSON.stringify(new URL("./cpu-worker.ts", import.meta.url).href)}, ${JSON.stringify(import.meta.url)}))`, { eval: true, workerData })
    : new Worker(new URL("./cpu-worker.js", import.meta.url), { workerData });
  worker.on("error", () => undefined); // it never says ready, so it is never used
  worker.unref(); // idle workers never keep the process alive
  return worker;
}

function sharedArray(length: number): Float32Array {
  return new Float32Array(new SharedArrayBuffer(4 * length));
}

/** `a` itself when it is in shared memory already, else a shared copy. */
function shared(a: Float32Array): Float32Array {
  if (a.buffer instanceof SharedArrayBuffer) return a;
  const s = sharedArray(a.length);
  s.set(a);
  return s;
}

// Blocked weights are made once per layer (conv2d.ts); share each once, too.
const sharedWeights = new WeakMap<Float32Array, Float32Array>();

function sharedOnce(a: Float32Array): Float32Array {
  let s = sharedWeights.get(a);
  if (!s) sharedWeights.set(a, (s = shared(a)));
  return s;
}

function shareTask(task: ConvTask): ConvJob {
  const [n, oh, ow, cout] = task.outShape;
  return {
    ...task,
    x: { shape: task.x.shape, data: shared(task.x.data) },
    blocked: sharedOnce(task.blocked),
    bias: task.bias && sharedOnce(task.bias),
    out: sharedArray(n * oh * ow * cout),
  };
}
