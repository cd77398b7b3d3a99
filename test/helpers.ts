// Shared by the tests: fixture loading and parity assertions.
import { readFileSync } from "node:fs";
import { deflateSync } from "node:zlib";
import { join } from "node:path";
import type { Server } from "node:http";
import { fileURLToPath } from "node:url";
import type { Browser } from "puppeteer";
import type { Test } from "uvu";
import * as assert from "uvu/assert";
import { startStaticServer } from "../demo/serve.js";
import { launchChromium } from "../src/node/chromium.js";
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

/** A PNG from raw chunks: zero sizes and palettes are what pngjs's writer cannot make. */
export function pngFromChunks(width: number, height: number, colorType: number, bitDepth: number, extra: [string, Uint8Array][], rows: Uint8Array): Uint8Array {
  const chunk = (type: string, body: Uint8Array) => {
    const out = Buffer.alloc(12 + body.length);
    out.writeUInt32BE(body.length, 0);
    out.write(type, 4, "latin1");
    out.set(body, 8);
    out.writeUInt32BE(crc32(out.subarray(4, 8 + body.length)), 8 + body.length);
    return out;
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([bitDepth, colorType, 0, 0, 0], 8);
  const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  const chunks = [chunk("IHDR", ihdr), ...extra.map(([t, b]) => chunk(t, b)), chunk("IDAT", deflateSync(rows)), chunk("IEND", new Uint8Array())];
  return new Uint8Array(Buffer.concat([signature, ...chunks]));
}

function crc32(bytes: Uint8Array): number {
  let c = ~0;
  for (const b of bytes) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = (c >>> 1) ^ (0xedb88320 & -(c & 1));
  }
  return ~c >>> 0;
}

/** A deterministic RGBA test image: a hashed byte pattern, no photo content. */
export function patternImage(width: number, height: number, seed = 1) {
  const data = new Uint8ClampedArray(width * height * 4);
  for (let i = 0; i < data.length; i++) data[i] = (i * 2654435761 + seed * 97) % 251;
  return { width, height, data };
}

/** A page suite's context: a static server over a built folder, and a headless Chromium. */
export type PageContext = { server?: Server; browser?: Browser };

/** Serves `dir` on a free port and opens Chromium before the suite; closes both after it. */
export function servePages(pages: Test<PageContext>, dir: string): void {
  pages.before(async (ctx) => {
    ctx.server = await startStaticServer(dir, 0);
    ctx.browser = await launchChromium();
  });
  pages.after(async (ctx) => {
    await ctx.browser?.close();
    ctx.server?.close();
  });
}
