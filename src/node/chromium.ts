/**
 * Headless Chromium for Node: runs blurmap's WebGL backend from the CLI and the
 * browser tests. Uses the system's Chromium (never a downloaded one); every
 * file the page asks for is answered from memory through request
 * interception, so no server or network is involved.
 */
import { existsSync, readFileSync } from "node:fs";
import puppeteer, { type Browser, type Page } from "puppeteer";

export const PAGE_ORIGIN = "http://blurmap.invalid";

export function chromiumPath(): string {
  const candidates = [process.env.BLURMAP_CHROMIUM, process.env.PUPPETEER_EXECUTABLE_PATH, "/usr/bin/chromium", "/usr/bin/chromium-browser"];
  const found = candidates.find((p) => p && existsSync(p));
  if (!found) throw new Error("blurmap: no Chromium found (install Debian's 'chromium' package, or set BLURMAP_CHROMIUM to its path)");
  return found;
}

/** Headless Chromium with WebGL2 (SwiftShader where there is no GPU); BLURMAP_CHROMIUM_ARGS adds flags. */
export async function launchChromium(): Promise<Browser> {
  const extraArgs = (process.env.BLURMAP_CHROMIUM_ARGS ?? "").split(" ").filter(Boolean);
  return puppeteer.launch({
    executablePath: chromiumPath(),
    headless: true,
    // Benchmarks and big images on a software renderer run for minutes inside one call.
    protocolTimeout: 30 * 60 * 1000,
    // Chromium refuses to start its sandbox as root (as on CI machines); everyone else keeps it.
    args: [...(process.getuid?.() === 0 ? ["--no-sandbox"] : []), "--enable-unsafe-swiftshader", "--disable-background-networking", "--disable-dev-shm-usage", ...extraArgs],
  });
}

/** Scripts must come as JavaScript for the page to run them; everything else is plain bytes. */
function contentType(path: string): string {
  return path.endsWith(".js") ? "text/javascript" : "application/octet-stream";
}

export class ChromiumPage {
  private constructor(
    private readonly browser: Browser,
    readonly page: Page,
    private readonly served: Map<string, { body: Uint8Array; type: string }>,
  ) {}

  /** Makes `body` available to the page at URL path `path`. */
  serve(path: string, body: Uint8Array): void {
    this.served.set(path, { body, type: contentType(path) });
  }

  unserve(path: string): void {
    this.served.delete(path);
  }

  /**
   * Opens a blank page that has imported `bundlePath` (an ESM file) as
   * `window.lib`; `files` maps URL paths to bytes the page may fetch.
   */
  static async open(bundlePath: string, files: ReadonlyMap<string, Uint8Array> = new Map()): Promise<ChromiumPage> {
    const browser = await launchChromium();
    try {
      const page = await browser.newPage();
      const served = new Map<string, { body: Uint8Array; type: string }>([
        ["/", { body: new TextEncoder().encode("<!doctype html><meta charset=utf-8><title>blurmap</title>"), type: "text/html" }],
        ["/bundle.js", { body: readFileSync(bundlePath), type: "text/javascript" }],
      ]);
      for (const [path, body] of files) served.set(path, { body, type: contentType(path) });
      await page.setRequestInterception(true);
      page.on("request", (req) => {
        const url = new URL(req.url());
        const file = url.origin === PAGE_ORIGIN ? served.get(url.pathname) : undefined;
        if (file) void req.respond({ status: 200, contentType: file.type, body: Buffer.from(file.body) });
        else void req.respond({ status: 404, body: "not found" });
      });
      const errors: string[] = [];
      page.on("pageerror", (e) => errors.push(String(e)));
      await page.goto(`${PAGE_ORIGIN}/`);
      // A string, so that no bundler tries to resolve the page-side import.
      await page.evaluate(`import("/bundle.js").then((lib) => { window.lib = lib; })`);
      if (errors.length) throw new Error(`page error: ${errors.join("; ")}`);
      return new ChromiumPage(browser, page, served);
    } catch (e) {
      await browser.close();
      throw e;
    }
  }

  async close(): Promise<void> {
    await this.browser.close();
  }
}
