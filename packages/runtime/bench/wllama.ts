/**
 * One wllama measurement (llama.cpp compiled to WebAssembly, @wllama/wllama 3.8.1) on a GGUF:
 *
 *   tsx bench/wllama.ts <model.gguf> <threads>
 *
 * wllama targets browsers: its build needs WebAssembly memory64 (Node 20 compiles it only behind
 * --experimental-wasm-memory64, and its worker code expects a browser's Worker/fetch/Blob), JSPI
 * for reading a model of more than 2 GB from a Blob, and cross-origin isolation for threads. So it
 * runs in Debian's headless Chromium (driven by playwright-core, both from tooling/wllama/install.sh)
 * on a page served here with COOP/COEP headers. Prints {load_ms, prompt_tps, gen_tps, peak_rss_mb}
 * like one.ts, or {error} when wllama cannot run the model. Prompt/generation figures are the
 * llama.cpp server's own timings inside wllama; peak RSS is the sampled peak of the whole
 * browser's process tree (the renderer holds the wasm heap).
 */
import {
  createReadStream,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
} from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { extname, join, normalize } from "node:path";
import { pathToFileURL } from "node:url";
import { repoRoot } from "@cllama/tooling/fixtures";

const [path, threadsArg] = process.argv.slice(2);
const threads = Number(threadsArg);
const N_PROMPT = Number(process.env.BENCH_PROMPT ?? 512);
const N_GEN = Number(process.env.BENCH_GEN ?? 128);
const chromium = process.env.CHROMIUM ?? "/usr/bin/chromium";
const jsFlags = process.env.WLLAMA_JS_FLAGS;

const tooling = join(repoRoot, "tooling", "wllama");
const wllamaDir = join(tooling, "node_modules", "@wllama", "wllama", "esm");
const playwrightEntry = join(tooling, "node_modules", "playwright-core", "index.mjs");

function fail(error: string): never {
  console.log(JSON.stringify({ error }));
  process.exit(0);
}

if (!existsSync(wllamaDir) || !existsSync(playwrightEntry))
  fail("not installed: run tooling/wllama/install.sh");
if (!existsSync(chromium)) fail(`no Chromium at ${chromium}: run tooling/wllama/install.sh`);
// wllama is linked with -sMAXIMUM_MEMORY=4096MB: the weights alone must fit in its one heap.
const HEAP_MAX = 4096 * 2 ** 20;
if (statSync(path!).size >= HEAP_MAX)
  fail(
    `the file (${(statSync(path!).size / 2 ** 30).toFixed(2)} GiB) does not fit in wllama's single 4 GiB WebAssembly heap (-sMAXIMUM_MEMORY=4096MB)`,
  );

const types: Record<string, string> = {
  ".html": "text/html",
  ".js": "text/javascript",
  ".mjs": "text/javascript",
  ".wasm": "application/wasm",
};

const server = createServer((req, res) => {
  const url = new URL(req.url ?? "/", "http://localhost");
  let file: string | undefined;
  if (url.pathname === "/" || url.pathname === "/page.html") file = join(tooling, "page.html");
  else if (url.pathname === "/page.js") file = join(tooling, "page.js");
  else if (url.pathname === "/model.gguf") file = path;
  else if (url.pathname.startsWith("/wllama/")) {
    const rel = normalize(url.pathname.slice("/wllama/".length));
    if (!rel.startsWith("..")) file = join(wllamaDir, rel);
  }
  if (!file || !existsSync(file) || !statSync(file).isFile()) {
    if (process.env.WLLAMA_VERBOSE) console.error(`404 ${url.pathname}`);
    res.writeHead(404).end();
    return;
  }
  const size = statSync(file).size;
  // page.js reads the model by ranges (one multi-GB response fails in Chromium)
  const range = /^bytes=(\d+)-(\d+)$/.exec(req.headers.range ?? "");
  const start = range ? Number(range[1]) : 0;
  const end = range ? Math.min(Number(range[2]), size - 1) : size - 1;
  res.writeHead(range ? 206 : 200, {
    "Content-Type": types[extname(file)] ?? "application/octet-stream",
    "Content-Length": end - start + 1,
    ...(range ? { "Content-Range": `bytes ${start}-${end}/${size}` } : {}),
    "Accept-Ranges": "bytes",
    // cross-origin isolation: SharedArrayBuffer for wllama's threads
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Embedder-Policy": "require-corp",
    "Cross-Origin-Resource-Policy": "same-origin",
  });
  if (req.method === "HEAD") res.end();
  else createReadStream(file, { start, end }).pipe(res);
});
await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
const port = (server.address() as AddressInfo).port;

/** Resident set of a process and all its descendants (Chromium runs a renderer, a GPU process...). */
function treeRssBytes(root: number): number {
  const children = new Map<number, number[]>();
  const rss = new Map<number, number>();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      const ppid = Number(fields[1]);
      rss.set(Number(entry), Number(fields[21]) * 4096);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
    } catch {
      // the process ended meanwhile
    }
  }
  let sum = 0;
  const stack = [root];
  while (stack.length) {
    const pid = stack.pop()!;
    sum += rss.get(pid) ?? 0;
    stack.push(...(children.get(pid) ?? []));
  }
  return sum;
}

const { chromium: pw } = (await import(pathToFileURL(playwrightEntry).href)) as {
  chromium: {
    launchPersistentContext(
      dir: string,
      o: object,
    ): Promise<{
      newPage(): Promise<{
        goto(url: string): Promise<unknown>;
        waitForFunction(fn: string, arg?: unknown, o?: object): Promise<unknown>;
        evaluate<T>(fn: (a: unknown) => Promise<T>, arg: unknown): Promise<T>;
        on(event: string, cb: (m: { text(): string }) => void): void;
      }>;
      close(): Promise<void>;
    }>;
  };
};
// A persistent profile, so that Chromium may keep Blobs on disk: without one (an incognito-like
// context) its Blob storage is memory-only and refuses a model of several GB ("Failed to fetch").
const profile = mkdtempSync(join(tmpdir(), "wllama-profile-"));
const browser = await pw.launchPersistentContext(profile, {
  executablePath: chromium,
  headless: true,
  // root in a container: no sandbox; no GPU (wllama's CPU path is what is compared)
  args: ["--no-sandbox", "--disable-gpu", ...(jsFlags ? [`--js-flags=${jsFlags}`] : [])],
});
// Chromium is this process's child: its tree is ours less this process.
let peakRss = 0;
const sampler = setInterval(() => {
  peakRss = Math.max(peakRss, treeRssBytes(process.pid) - process.memoryUsage.rss());
}, 200);
try {
  const page = await browser.newPage();
  page.on("console", (m) => console.error(`[page] ${m.text()}`));
  await page.goto(`http://127.0.0.1:${port}/`);
  await page.waitForFunction("window.wllamaReady === true", undefined, { timeout: 60_000 });
  const r = (await page.evaluate(
    (arg) => (window as unknown as { wllamaBench(a: unknown): Promise<unknown> }).wllamaBench(arg),
    {
      nPrompt: N_PROMPT,
      nGen: N_GEN,
      threads,
      nCtx: N_PROMPT + N_GEN + 8,
      verbose: !!process.env.WLLAMA_VERBOSE,
    },
  )) as {
    loadMs: number;
    multithread: boolean;
    threads: number;
    crossOriginIsolated: boolean;
    timings: {
      prompt_n: number;
      prompt_per_second: number;
      predicted_n: number;
      predicted_per_second: number;
    } | null;
  };
  if (!r.timings) fail("wllama returned no timings");
  if (r.timings.predicted_n < N_GEN) fail(`wllama generated ${r.timings.predicted_n} of ${N_GEN} tokens`);
  console.log(
    JSON.stringify({
      load_ms: Math.round(r.loadMs),
      prompt_tps: +r.timings.prompt_per_second.toFixed(2),
      gen_tps: +r.timings.predicted_per_second.toFixed(2),
      peak_rss_mb: Math.round(peakRss / 2 ** 20),
      wllama_threads: r.multithread ? r.threads : 1,
      prompt_n: r.timings.prompt_n,
    }),
  );
} catch (error) {
  console.log(JSON.stringify({ error: String((error as Error).message ?? error).split("\n")[0] }));
} finally {
  clearInterval(sampler);
  await browser.close();
  server.close();
  rmSync(profile, { recursive: true, force: true });
}
process.exit(0);
