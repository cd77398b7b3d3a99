// Longer fuzzing runs than the test suite's: every weights parser on mutated files.
//   node --import tsx tools/fuzz.ts [--count 20000] [--seed 1]
import { parseArgs } from "node:util";
import { fuzz, FUZZ_TARGETS } from "../test/fuzz-cases.js";

const { values } = parseArgs({ options: { count: { type: "string", default: "20000" }, seed: { type: "string", default: "1" } } });
let broken = 0;
for (const [format, original, parse] of FUZZ_TARGETS) {
  const file = `fuzzed.${format.split(" ")[0]}`;
  const started = performance.now();
  const r = fuzz(original(), Number(values.count), Number(values.seed), file, (b) => parse(b, file));
  console.log(`${format}: ${values.count} cases, ${r.loaded} loaded, ${r.rejected} clear errors, ${r.broken.length} broken, ${((performance.now() - started) / 1000).toFixed(1)} s`);
  for (const b of r.broken.slice(0, 10)) console.log(`  ${b}`);
  broken += r.broken.length;
}
process.exitCode = broken ? 1 : 0;
