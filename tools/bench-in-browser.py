#!/usr/bin/env python3
"""Runs blurmap's browser benchmark (dist/bench/, built by tools/build.js) in a
Chromium without Node: serves the folder on loopback, opens the page headless
with the given flags, prints its progress and writes the JSON report and the
Markdown table it POSTs back. For machines that have a GPU and a Chromium but
no Node (bench/README.md shows the flags for NVIDIA GPUs). Standard library only.

  python3 tools/bench-in-browser.py --chromium /usr/bin/chromium \\
      --query 'model=dbm&size=384' --out report.json -- --use-angle=vulkan
"""
import argparse
import functools
import http.server
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time


def serve(folder, received):
    """A loopback server for `folder`; POSTs to /__bench/<name> land in `received`."""

    class Handler(http.server.SimpleHTTPRequestHandler):
        def do_POST(self):
            name = self.path.rsplit("/", 1)[-1]
            body = self.rfile.read(int(self.headers.get("Content-Length", 0))).decode("utf-8")
            if name == "log":
                print(f"page: {body}", file=sys.stderr, flush=True)
            else:
                received[name] = body
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Handler, directory=folder))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--chromium", default="/usr/bin/chromium", help="the Chromium binary")
    parser.add_argument("--dir", default="dist/bench", help="the built bench folder")
    parser.add_argument("--query", default="", help="the page's options, as a query string (bench/index.html lists them)")
    parser.add_argument("--probe", action="store_true", help="only measure the peak and name the renderer")
    parser.add_argument("--out", help="write the JSON report here (and the table beside it, as .md)")
    parser.add_argument("--timeout", type=float, default=600, help="seconds to wait for the report")
    parser.add_argument("flags", nargs="*", help="extra Chromium flags (after --)")
    args = parser.parse_args()
    if not os.path.isfile(os.path.join(args.dir, "index.html")):
        sys.exit(f"{args.dir}/index.html not found: build first (node tools/build.js)")
    if not (os.path.isfile(args.chromium) and os.access(args.chromium, os.X_OK)):
        sys.exit(f"{args.chromium}: no Chromium binary there")

    received = {}
    server = serve(args.dir, received)
    query = "&".join(q for q in ["run", "probe" if args.probe else "", "post=/__bench", args.query] if q)
    url = f"http://127.0.0.1:{server.server_port}/index.html?{query}"
    profile = tempfile.mkdtemp(prefix="blurmap-bench-")
    command = [args.chromium, "--headless=new", f"--user-data-dir={profile}", "--no-first-run", "--disable-background-networking", "--disable-dev-shm-usage"]
    if os.geteuid() == 0:
        command.append("--no-sandbox")  # Chromium refuses its sandbox as root
    browser = subprocess.Popen(command + args.flags + [url], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + args.timeout
    try:
        while "report" not in received and browser.poll() is None and time.monotonic() < deadline:
            time.sleep(0.2)
    finally:
        browser.kill()
        stderr = browser.communicate()[1]
        server.shutdown()
        shutil.rmtree(profile, ignore_errors=True)
    if args.probe:
        print(f"chromium's last output:\n{stderr[-1500:]}", file=sys.stderr)
    if "report" not in received:
        why = "Chromium exited" if browser.returncode is not None and time.monotonic() < deadline else f"no report after {args.timeout:.0f} s"
        sys.exit(f"{why}; its last output:\n{stderr[-3000:]}")
    report = received["report"]
    if args.out:
        with open(args.out, "w") as f:
            f.write(report + "\n")
        if "table" in received:
            with open(os.path.splitext(args.out)[0] + ".md", "w") as f:
                f.write(received["table"])
    print(received.get("table", report))
    if "error" in json.loads(report):
        sys.exit(1)


if __name__ == "__main__":
    main()
