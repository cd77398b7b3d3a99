// Bounded fuzzing of every weights parser with mutated files written by each
// format's own tools (torch.save, torch.onnx.export, Caffe's schema; 1,000 cases
// each, small models so that it runs in seconds): each case must load correctly
// or fail with our own error naming the file. More: node --import tsx tools/fuzz.ts.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { fuzz, FUZZ_TARGETS } from "./fuzz-cases.js";

for (const [format, original, parse, count] of FUZZ_TARGETS) {
  test(`fuzz ${format}: ${count} mutated files, each a correct load or a clear error`, () => {
    const file = `fuzzed.${format.split(" ")[0]}`;
    const started = performance.now();
    const r = fuzz(original(), count, 1, file, (b) => parse(b, file));
    const seconds = (performance.now() - started) / 1000;
    console.log(`    fuzz ${format}: ${r.loaded} loaded, ${r.rejected} clear errors, ${r.broken.length} broken, ${seconds.toFixed(1)} s`);
    assert.equal(r.broken.slice(0, 5), [], `${r.broken.length} case(s) broke the rules`);
  });
}

test.run();
