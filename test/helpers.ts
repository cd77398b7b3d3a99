// Shared by the tests: fixture loading and parity assertions.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import * as assert from "uvu/assert";
import type { Tensor } from "../src/kernels/kernel.js";
import type { Shape } from "../src/kernels/layout.js";
import { compare, describe, type Tolerance } from "../src/parity.js";
import { readWeightsFile } from "../src/weights/load.js";
import { parseSafetensors, type SafetensorsFile } from "../src/weights/safetensors.js";

export const ROOT = fileURLToPath(new URL("..", import.meta.url));
export const FIXTURES = join(ROOT, "test", "fixtures");

export function fixtureBytes(name: string): Uint8Array {
  return new Uint8Array(readFileSync(join(FIXTURES, name)));
}

export function fixture(name: string): SafetensorsFile {
  return parseSafetensors(fixtureBytes(name), name);
}

export function weightsFixture(name: string) {
  return readWeightsFile(fixtureBytes(name), name);
}

export function asTensor(file: SafetensorsFile, name: string): Tensor {
  const t = file.tensors.get(name);
  if (!t) throw new Error(`fixture has no tensor "${name}"`);
  if (t.shape.length !== 4) throw new Error(`fixture tensor "${name}" is not 4-D`);
  return { shape: t.shape as unknown as Shape, data: t.data };
}

/** Asserts parity and returns the max abs error, for the report. */
export function assertClose(label: string, actual: Tensor, expected: Tensor, tol: Tolerance): number {
  assert.equal([...actual.shape], [...expected.shape], `${label}: shape`);
  const c = compare(actual.data, expected.data, tol);
  assert.ok(c.ok, `${label}: ${describe(c)}`);
  return c.maxAbsError;
}

/** Asserts that an async call fails with a message matching `pattern` (uvu has no assert.rejects). */
export async function rejects(fn: () => Promise<unknown>, pattern: RegExp): Promise<void> {
  try {
    await fn();
  } catch (e) {
    assert.match((e as Error).message, pattern);
    return;
  }
  assert.unreachable(`expected a failure matching ${pattern}`);
}
