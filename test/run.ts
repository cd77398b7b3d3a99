// Runs every test file with uvu in one process, then prints the plain closing
// line CI reads: "N passed, N failed".
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const dir = fileURLToPath(new URL(".", import.meta.url));
const only = process.argv[2]; // optional: a substring of the test files to run
const files = readdirSync(dir).filter((f) => f.endsWith(".test.ts") && (!only || f.includes(only))).sort();

(globalThis as any).UVU_DEFER = 1;
const uvu = await import("uvu");
let captured = "";
const write = process.stdout.write.bind(process.stdout);
process.stdout.write = ((chunk: any, ...rest: any[]) => {
  captured += String(chunk);
  return write(chunk, ...rest);
}) as typeof process.stdout.write;

const started = Date.now();
for (const [i, file] of files.entries()) {
  (globalThis as any).UVU_INDEX = i;
  (globalThis as any).UVU_QUEUE.push([file]);
  await import(join(dir, file));
}
await (uvu as any).exec(false);
process.stdout.write = write;

// uvu's summary counts tests ("Total") and passing ones ("Passed").
const plain = captured.replace(/\x1b\[[0-9;]*m/g, "");
const total = Number(/Total:\s+(\d+)/.exec(plain)?.[1] ?? NaN);
const passed = Number(/Passed:\s+(\d+)/.exec(plain)?.[1] ?? NaN);
const skipped = Number(/Skipped:\s+(\d+)/.exec(plain)?.[1] ?? 0);
if (!Number.isFinite(total) || !Number.isFinite(passed) || total === 0) {
  console.log("test runner: could not read uvu's totals, or no test ran");
  console.log("0 passed, 1 failed");
  process.exitCode = 1;
} else {
  const failed = total - passed - skipped;
  console.log(`test files: ${files.length}, wall time ${((Date.now() - started) / 1000).toFixed(1)} s`);
  console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ""}`);
  if (failed > 0) process.exitCode = 1;
}
