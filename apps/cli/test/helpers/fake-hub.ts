/**
 * A Hugging Face hub stand-in on 127.0.0.1 for the pull tests (tests never contact a real host).
 * Two servers, because on the real hub LFS files live on another host: the hub answers
 * `/<repo>/resolve/<rev>/<file>` with a 302 to the CDN carrying `x-linked-etag` (SHA-256) and
 * `x-linked-size`; small git files are served by the hub itself with the git blob SHA-1 as ETag.
 * The CDN honours `Range`, and can misbehave on demand: corrupt a byte, drop the connection,
 * dribble slowly, stall, or ignore ranges.
 */
import { createHash } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export interface FakeFile {
  content: Uint8Array;
  /** Stored with git LFS (redirect to the CDN, SHA-256 ETag); default true. */
  lfs?: boolean;
}

export interface Misbehaviour {
  /** Flip the byte at this offset of the file in every response that covers it. */
  corruptByteAt?: number;
  /** Destroy the connection once this many body bytes were sent (next requests behave). */
  dropAfterBytes?: number;
  /** Send the body in chunks of this size, waiting `delayMs` between chunks. */
  chunkSize?: number;
  delayMs?: number;
  /** Stop sending (but keep the connection open) after this many body bytes. */
  stallAfterBytes?: number;
  /** Answer 200 with the whole file even when a Range was asked for. */
  ignoreRange?: boolean;
}

export interface RecordedRequest {
  server: "hub" | "cdn";
  method: string;
  url: string;
  range?: string;
  authorization?: string;
}

export interface FakeHub {
  endpoint: string;
  requests: RecordedRequest[];
  /** Change behaviour between requests. */
  misbehave: Misbehaviour;
  close(): Promise<void>;
}

export const sha256 = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");
export const gitSha1 = (bytes: Uint8Array) =>
  createHash("sha1").update(`blob ${bytes.byteLength}\0`).update(bytes).digest("hex");

/** Deterministic pseudo-random bytes (xorshift32). */
export function randomBytes(length: number, seed = 1): Uint8Array {
  const out = new Uint8Array(length);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    out[i] = x & 0xff;
  }
  return out;
}

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

export async function startFakeHub(files: Record<string, FakeFile>): Promise<FakeHub> {
  const requests: RecordedRequest[] = [];
  const sockets = new Set<import("node:net").Socket>();
  const hub: FakeHub = { endpoint: "", requests, misbehave: {}, close: async () => {} };
  const bySha = new Map(Object.values(files).map((f) => [sha256(f.content), f]));

  const record = (server: "hub" | "cdn", req: IncomingMessage) =>
    requests.push({
      server,
      method: req.method ?? "GET",
      url: req.url ?? "",
      range: req.headers.range,
      authorization: req.headers.authorization,
    });

  const cdn = createServer((req, res) => {
    record("cdn", req);
    const file = bySha.get((req.url ?? "").replace(/^\/blobs\//, ""));
    if (!file) return void res.writeHead(404).end("not found");
    serveBytes(req, res, file.content, { etag: `"cdn-${Math.random()}"` }, hub.misbehave);
  });
  const cdnOrigin = await listen(cdn);

  const hubServer = createServer((req, res) => {
    record("hub", req);
    const match = /^\/(.+?)\/resolve\/([^/]+)\/(.+)$/.exec(decodeURIComponent(req.url ?? ""));
    const file = match ? files[`${match[1]}/${match[3]}`] : undefined;
    if (!file) {
      res.writeHead(404, { "x-error-code": "EntryNotFound", "content-type": "text/plain" });
      return void res.end("Entry not found");
    }
    if (file.lfs !== false) {
      const sha = sha256(file.content);
      res.writeHead(302, {
        location: `${cdnOrigin}/blobs/${sha}`,
        "x-linked-etag": `"${sha}"`,
        "x-linked-size": String(file.content.byteLength),
        etag: `"${gitSha1(new TextEncoder().encode("lfs pointer"))}"`,
      });
      return void res.end();
    }
    serveBytes(req, res, file.content, { etag: `"${gitSha1(file.content)}"` }, hub.misbehave);
  });
  hub.endpoint = await listen(hubServer);
  for (const server of [cdn, hubServer]) server.on("connection", (s) => sockets.add(s));
  hub.close = async () => {
    for (const s of sockets) s.destroy();
    await Promise.all([cdn, hubServer].map((s) => new Promise((resolve) => s.close(resolve))));
  };
  return hub;
}

function serveBytes(
  req: IncomingMessage,
  res: ServerResponse,
  content: Uint8Array,
  headers: Record<string, string>,
  misbehave: Misbehaviour,
): void {
  const size = content.byteLength;
  let start = 0;
  const range = /^bytes=(\d+)-$/.exec(req.headers.range ?? "");
  if (range && !misbehave.ignoreRange) {
    start = Number(range[1]);
    if (start >= size) {
      res.writeHead(416, { "content-range": `bytes */${size}` });
      return void res.end();
    }
    res.writeHead(206, {
      ...headers,
      "content-length": String(size - start),
      "content-range": `bytes ${start}-${size - 1}/${size}`,
    });
  } else res.writeHead(200, { ...headers, "content-length": String(size) });
  if (req.method === "HEAD") return void res.end();

  const body = Buffer.from(content.subarray(start));
  if (misbehave.corruptByteAt !== undefined && misbehave.corruptByteAt >= start)
    body[misbehave.corruptByteAt - start]! ^= 0xff;
  const chunkSize = misbehave.chunkSize ?? 16 * 1024;
  const { dropAfterBytes, stallAfterBytes } = misbehave;
  // A drop happens once: the next request (the resume) gets served properly.
  if (dropAfterBytes !== undefined) misbehave.dropAfterBytes = undefined;
  let sent = 0;
  const next = () => {
    if (res.destroyed) return;
    if (sent >= body.byteLength) return void res.end();
    if (stallAfterBytes !== undefined && sent >= stallAfterBytes) return; // hang forever
    let end = Math.min(body.byteLength, sent + chunkSize);
    if (dropAfterBytes !== undefined) end = Math.min(end, dropAfterBytes);
    if (stallAfterBytes !== undefined) end = Math.min(end, stallAfterBytes);
    res.write(body.subarray(sent, end));
    sent = end;
    if (dropAfterBytes !== undefined && sent >= dropAfterBytes) {
      // Let the bytes leave, then cut the connection mid-body.
      setTimeout(() => res.socket?.destroy(), 20);
      return;
    }
    if (misbehave.delayMs) setTimeout(next, misbehave.delayMs);
    else setImmediate(next);
  };
  next();
}
