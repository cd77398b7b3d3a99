/**
 * Serves the built demo (dist/demo: index.html, main.js, weights/) on
 * localhost; the tests serve the bench page (dist/bench) with it too. Any
 * static server works as well; this one needs nothing installed.
 *
 *   node dist/demo-server.js [--port 8080]
 */
import { existsSync, readFileSync, statSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { extname, join, normalize, resolve } from "node:path";
import { parseArgs } from "node:util";
import { fileURLToPath } from "node:url";

const TYPES: Record<string, string> = { ".html": "text/html; charset=utf-8", ".js": "text/javascript", ".map": "application/json", ".safetensors": "application/octet-stream" };

export function startStaticServer(root: string, port: number): Promise<Server> {
  const base = resolve(root);
  const server = createServer((req, res) => {
    const path = normalize(decodeURIComponent(new URL(req.url ?? "/", "http://localhost").pathname));
    const file = join(base, path.endsWith("/") ? `${path}index.html` : path);
    if (!file.startsWith(base) || !existsSync(file) || !statSync(file).isFile()) {
      res.writeHead(404, { "content-type": "text/plain" }).end("not found");
      return;
    }
    res.writeHead(200, { "content-type": TYPES[extname(file)] ?? "application/octet-stream" }).end(readFileSync(file));
  });
  return new Promise((ok, fail) => {
    server.once("error", fail);
    server.listen(port, "127.0.0.1", () => ok(server));
  });
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({ options: { port: { type: "string", default: "8080" } } });
  const root = join(fileURLToPath(new URL(".", import.meta.url)), "demo");
  if (!existsSync(join(root, "index.html"))) throw new Error(`no built demo in ${root}: run node tools/build.js first`);
  const server = await startStaticServer(root, Number(values.port));
  const address = server.address() as { port: number };
  console.log(`blurmap demo: http://127.0.0.1:${address.port}/ (Ctrl-C to stop)`);
}
