// A worker thread of the CPU path's conv pool (cpu-threads.ts): says it is
// ready on its shared flag, then computes the rows it is given of conv jobs
// whose arrays live in shared memory, counting itself done (or failed) on the
// shared control words and waking the main thread.
import { parentPort, workerData } from "node:worker_threads";
import { runConvRows, type ConvJob } from "../kernels/conv2d.js";

const { ready, index } = workerData as { ready: Int32Array; index: number };

parentPort!.on("message", (m: { job: ConvJob; start: number; end: number; control: Int32Array }) => {
  try {
    runConvRows(m.job, m.start, m.end);
  } catch {
    Atomics.store(m.control, 1, 1);
  } finally {
    Atomics.add(m.control, 0, 1);
    Atomics.notify(m.control, 0);
  }
});
Atomics.store(ready, index, 1);
