/**
 * Downloads one file of a Hugging Face repo, the way `cllama pull` needs it:
 *
 * - Metadata first (HEAD on `<endpoint>/<repo>/resolve/<revision>/<file>`, relative redirects
 *   followed, the CDN redirect not): the hub announces the file's checksum in `x-linked-etag`
 *   (LFS files: the SHA-256 of the content) or `etag` (small files kept in git: the git blob
 *   SHA-1), and its size in `x-linked-size` / `content-length`.
 * - Bytes go to `<target>.partial`. If a partial is already there (an earlier run was
 *   interrupted), only the rest is requested with `Range: bytes=<size>-`; a server that ignores
 *   the range (200 instead of 206) makes us start over.
 * - The content is hashed as it arrives (the resumed prefix is hashed from disk first) and must
 *   match the checksum; then fsync and rename to the target. A mismatch deletes the partial and
 *   the target never appears. An interrupted download keeps its partial (that is what makes the
 *   next run resumable) but never leaves anything under the final name.
 * - A server that sends nothing for `idleTimeoutMs` is given up on (the partial stays).
 *
 * Isomorphic it is not (files, hashes); it is only used by the CLI.
 */
import { createHash, type Hash } from "node:crypto";
import { createReadStream } from "node:fs";
import { mkdir, open, rename, rm, stat } from "node:fs/promises";
import { homedir } from "node:os";
import { dirname, join } from "node:path";

export type HubErrorCode =
  | "HUB_BAD_NAME"
  | "HUB_NOT_FOUND"
  | "HUB_UNAUTHORIZED"
  | "HUB_HTTP_ERROR"
  | "HUB_NETWORK"
  | "HUB_TIMEOUT"
  | "HUB_CHECKSUM_MISMATCH"
  | "HUB_SIZE_MISMATCH";

export class HubError extends Error {
  override name = "HubError";
  constructor(
    readonly code: HubErrorCode,
    message: string,
    readonly hint?: string,
  ) {
    super(message);
  }
}

export const DEFAULT_HF_ENDPOINT = "https://huggingface.co";

export interface HubFileRef {
  /** "org/name" (or a bare "name"). */
  repo: string;
  /** Path inside the repo, e.g. "ggml-model-q4_0.gguf" or "q4/model.gguf". */
  file: string;
  /** Branch, tag or commit; "main" by default. */
  revision?: string;
}

export interface DownloadOptions extends HubFileRef {
  /** Where the file goes: `<outDir>/<file>`. Defaults to the cache (see `hubCacheDir`). */
  outDir?: string;
  /** Host; defaults to CLLAMA_HF_ENDPOINT, then HF_ENDPOINT, then https://huggingface.co. */
  endpoint?: string;
  /** Bearer token for gated/private repos; defaults to HF_TOKEN. Sent to the hub host only. */
  token?: string;
  signal?: AbortSignal;
  /** Bytes done (resumed prefix included) and total (0 while unknown). */
  onProgress?: (done: number, total: number) => void;
  /** Give up when no byte arrives for this long (default 60 s). */
  idleTimeoutMs?: number;
  /** For tests. */
  fetch?: typeof fetch;
}

export interface DownloadResult {
  path: string;
  bytes: number;
  /** "sha256" or "git-sha1" when checked; undefined when the hub gave no usable checksum. */
  verifiedWith?: "sha256" | "git-sha1";
  checksum?: string;
  /** Bytes that were already on disk from an interrupted run. */
  resumedFrom: number;
  /** True when the file was already complete in place (nothing downloaded). */
  cached: boolean;
}

/** The cache root: CLLAMA_CACHE, else $XDG_CACHE_HOME/cllama, else ~/.cache/cllama. */
export function cllamaCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.CLLAMA_CACHE) return env.CLLAMA_CACHE;
  const base = env.XDG_CACHE_HOME || join(homedir(), ".cache");
  return join(base, "cllama");
}

/** `<cache>/hub/<org>--<name>/<revision>`: one folder per repo revision, files keep their path. */
export function hubCacheDir(repo: string, revision = "main", env: NodeJS.ProcessEnv = process.env): string {
  return join(cllamaCacheDir(env), "hub", repo.replace("/", "--"), revision);
}

export function hubEndpoint(env: NodeJS.ProcessEnv = process.env): string {
  return (env.CLLAMA_HF_ENDPOINT || env.HF_ENDPOINT || DEFAULT_HF_ENDPOINT).replace(/\/+$/, "");
}

const repoPattern = /^[A-Za-z0-9][\w.-]*(\/[A-Za-z0-9][\w.-]*)?$/;

/** Rejects names that could escape the target folder or are not hub names at all. */
export function validateHubRef({ repo, file, revision = "main" }: HubFileRef): void {
  if (!repoPattern.test(repo))
    throw new HubError(
      "HUB_BAD_NAME",
      `'${repo}' is not a Hugging Face repo name`,
      "write it as <owner>/<name>, e.g. hfl/chinese-alpaca-2-1.3b-gguf",
    );
  const segments = file.split("/");
  if (
    !file ||
    file.startsWith("/") ||
    file.includes("\\") ||
    segments.some((s) => s === "" || s === "." || s === "..")
  )
    throw new HubError(
      "HUB_BAD_NAME",
      `'${file}' is not a file path inside a repo`,
      "give the path as the repo's file list shows it, e.g. ggml-model-q4_0.gguf",
    );
  if (!revision || revision.includes("..") || revision.startsWith("/"))
    throw new HubError(
      "HUB_BAD_NAME",
      `'${revision}' is not a revision`,
      "use a branch, tag or commit, e.g. main",
    );
}

export function resolveUrl(endpoint: string, { repo, file, revision = "main" }: HubFileRef): string {
  const encode = (path: string) => path.split("/").map(encodeURIComponent).join("/");
  return `${endpoint}/${encode(repo)}/resolve/${encodeURIComponent(revision)}/${encode(file)}`;
}

/** What the hub says about a file before we download it. */
export interface HubFileInfo {
  /** Where the bytes are (the CDN for LFS files, else the resolve URL itself). */
  downloadUrl: string;
  size?: number;
  checksum?: { kind: "sha256" | "git-sha1"; hex: string };
}

/** `"abc"`, `W/"abc"` -> `abc`; then recognise SHA-256 (64 hex) or git blob SHA-1 (40 hex). */
export function parseEtag(raw: string | null | undefined): HubFileInfo["checksum"] {
  if (!raw) return undefined;
  const value = raw
    .trim()
    .replace(/^W\//, "")
    .replace(/^"(.*)"$/, "$1")
    .toLowerCase();
  if (/^[0-9a-f]{64}$/.test(value)) return { kind: "sha256", hex: value };
  if (/^[0-9a-f]{40}$/.test(value)) return { kind: "git-sha1", hex: value };
  return undefined;
}

function sizeHeader(headers: Headers): number | undefined {
  const raw = headers.get("x-linked-size") ?? headers.get("content-length");
  if (raw === null || !/^\d+$/.test(raw.trim())) return undefined;
  const size = Number(raw);
  return Number.isSafeInteger(size) ? size : undefined;
}

function httpError(status: number, url: string, ref: HubFileRef): HubError {
  const where = `${ref.repo}/${ref.file}`;
  if (status === 404)
    return new HubError(
      "HUB_NOT_FOUND",
      `${where} not found on the hub (HTTP 404 for ${url})`,
      `check the repo and file name: the file list is at ${url.split("/resolve/")[0]}/tree/${ref.revision ?? "main"}`,
    );
  if (status === 401 || status === 403)
    return new HubError(
      "HUB_UNAUTHORIZED",
      `${where}: access denied (HTTP ${status})`,
      "the repo is gated or private: accept its terms on the hub and set HF_TOKEN to an access token",
    );
  return new HubError(
    "HUB_HTTP_ERROR",
    `${where}: the hub answered HTTP ${status} for ${url}`,
    status >= 500 ? "the hub is having trouble; try again later" : undefined,
  );
}

function networkError(error: unknown, url: string): HubError {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  const detail = cause?.code ?? cause?.message ?? (error as Error).message;
  return new HubError(
    "HUB_NETWORK",
    `cannot reach ${new URL(url).origin}: ${detail}`,
    "check your connection (or CLLAMA_HF_ENDPOINT) and run the command again: it resumes where it stopped",
  );
}

/**
 * HEAD the resolve URL: follows same-host redirects (renamed repos), stops at the redirect to
 * another host (the LFS CDN), whose response carries the checksum headers.
 */
export async function fetchHubFileInfo(
  url: string,
  ref: HubFileRef,
  options: { fetch?: typeof fetch; token?: string; signal?: AbortSignal } = {},
): Promise<HubFileInfo> {
  const doFetch = options.fetch ?? fetch;
  let current = url;
  for (let hop = 0; hop < 10; hop++) {
    let response: Response;
    try {
      response = await doFetch(current, {
        method: "HEAD",
        redirect: "manual",
        headers: hubHeaders(current, url, options.token),
        signal: options.signal,
      });
    } catch (error) {
      if (options.signal?.aborted) throw error;
      throw networkError(error, current);
    }
    const location = response.headers.get("location");
    if (response.status >= 300 && response.status < 400 && location) {
      const next = new URL(location, current).toString();
      if (new URL(next).origin === new URL(url).origin) {
        current = next;
        continue;
      }
      return {
        downloadUrl: next,
        size: sizeHeader(response.headers),
        checksum: parseEtag(response.headers.get("x-linked-etag") ?? response.headers.get("etag")),
      };
    }
    if (!response.ok) throw httpError(response.status, current, ref);
    return {
      downloadUrl: current,
      size: sizeHeader(response.headers),
      checksum: parseEtag(response.headers.get("x-linked-etag") ?? response.headers.get("etag")),
    };
  }
  throw new HubError("HUB_HTTP_ERROR", `too many redirects for ${url}`);
}

function hubHeaders(target: string, hubUrl: string, token?: string): Record<string, string> {
  // Identity encoding: byte offsets (Range, sizes) must be those of the file itself.
  const headers: Record<string, string> = { "accept-encoding": "identity", "user-agent": "cllama" };
  // The token is for the hub; never hand it to the CDN host the hub redirects to.
  if (token && new URL(target).origin === new URL(hubUrl).origin) headers.authorization = `Bearer ${token}`;
  return headers;
}

function newHasher(checksum: HubFileInfo["checksum"], size: number | undefined): Hash | undefined {
  if (!checksum) return undefined;
  if (checksum.kind === "sha256") return createHash("sha256");
  // git hashes "blob <size>\0" + content; without the size it cannot be checked.
  if (size === undefined) return undefined;
  return createHash("sha1").update(`blob ${size}\0`);
}

async function fileSize(path: string): Promise<number | undefined> {
  try {
    const info = await stat(path);
    return info.isFile() ? info.size : undefined;
  } catch {
    return undefined;
  }
}

async function hashFile(hash: Hash, path: string, signal?: AbortSignal): Promise<void> {
  for await (const chunk of createReadStream(path, { signal })) hash.update(chunk as Buffer);
}

/** Downloads (or resumes, or finds in place) one hub file. See the module comment. */
export async function downloadHubFile(options: DownloadOptions): Promise<DownloadResult> {
  const ref: HubFileRef = { repo: options.repo, file: options.file, revision: options.revision ?? "main" };
  validateHubRef(ref);
  const endpoint = (options.endpoint ?? hubEndpoint()).replace(/\/+$/, "");
  const token = options.token ?? process.env.HF_TOKEN;
  const url = resolveUrl(endpoint, ref);
  const target = join(options.outDir ?? hubCacheDir(ref.repo, ref.revision), ...ref.file.split("/"));
  const partial = `${target}.partial`;

  const info = await fetchHubFileInfo(url, ref, { fetch: options.fetch, token, signal: options.signal });

  // Already there and intact: nothing to download.
  const existing = await fileSize(target);
  if (existing !== undefined && info.size !== undefined && existing === info.size) {
    const hash = newHasher(info.checksum, info.size);
    if (hash) await hashFile(hash, target, options.signal);
    if (!hash || hash.digest("hex") === info.checksum!.hex) {
      options.onProgress?.(existing, existing);
      return {
        path: target,
        bytes: existing,
        verifiedWith: hash ? info.checksum!.kind : undefined,
        checksum: hash ? info.checksum!.hex : undefined,
        resumedFrom: 0,
        cached: true,
      };
    }
  }

  await mkdir(dirname(target), { recursive: true });
  const first = await transfer({ ...options, ref, info, target, partial, token, hubUrl: url });
  if (first.ok) return first.result;
  // A checksum mismatch after a resume may mean the prefix on disk came from another version of
  // the file: start over once from nothing before declaring the download corrupt.
  if (first.resumedFrom > 0) {
    const second = await transfer({ ...options, ref, info, target, partial, token, hubUrl: url });
    if (second.ok) return second.result;
    throw second.error;
  }
  throw first.error;
}

interface TransferInput extends DownloadOptions {
  ref: HubFileRef;
  info: HubFileInfo;
  target: string;
  partial: string;
  hubUrl: string;
}

type TransferOutcome =
  | { ok: true; result: DownloadResult }
  | { ok: false; error: HubError; resumedFrom: number };

/** One pass: resume or start the partial, stream the rest, verify, rename. */
async function transfer(input: TransferInput): Promise<TransferOutcome> {
  const { info, partial, target, ref } = input;
  const doFetch = input.fetch ?? fetch;
  const idleTimeoutMs = input.idleTimeoutMs ?? 60_000;
  let offset = (await fileSize(partial)) ?? 0;
  if (info.size !== undefined && offset > info.size) {
    await rm(partial, { force: true });
    offset = 0;
  }

  // The idle timer aborts this controller; the user's signal aborts it too.
  const idle = new AbortController();
  const signal = input.signal ? AbortSignal.any([input.signal, idle.signal]) : idle.signal;
  let timer: NodeJS.Timeout | undefined;
  const armIdleTimer = () => {
    clearTimeout(timer);
    timer = setTimeout(() => idle.abort(), idleTimeoutMs);
  };
  const timeoutError = () =>
    new HubError(
      "HUB_TIMEOUT",
      `${ref.repo}/${ref.file}: no data from the server for ${Math.round(idleTimeoutMs / 1000)} s`,
      "the download was kept; run the same command again to resume it",
    );

  let response: Response | undefined;
  if (info.size === undefined || offset < info.size) {
    const headers = hubHeaders(info.downloadUrl, input.hubUrl, input.token);
    if (offset > 0) headers.range = `bytes=${offset}-`;
    armIdleTimer();
    try {
      response = await doFetch(info.downloadUrl, { headers, signal, redirect: "follow" });
    } catch (error) {
      clearTimeout(timer);
      if (input.signal?.aborted) throw error;
      if (idle.signal.aborted) throw timeoutError();
      throw networkError(error, info.downloadUrl);
    }
    if (response.status === 416 && offset > 0) {
      // Our partial is not a prefix the server recognises: start again from nothing.
      await response.body?.cancel();
      clearTimeout(timer);
      await rm(partial, { force: true });
      return transfer(input);
    }
    if (!response.ok) {
      clearTimeout(timer);
      await response.body?.cancel();
      throw httpError(response.status, info.downloadUrl, ref);
    }
    if (offset > 0 && response.status !== 206)
      offset = 0; // range ignored: the body is the whole file
    else if (offset > 0) {
      const start = /^bytes (\d+)-/.exec(response.headers.get("content-range") ?? "")?.[1];
      if (start !== undefined && Number(start) !== offset) {
        await response.body?.cancel();
        clearTimeout(timer);
        await rm(partial, { force: true });
        return transfer(input);
      }
    }
  }
  const total = info.size ?? (response ? (sizeHeader(response.headers) ?? 0) + offset : offset);
  const resumedFrom = offset;

  const hash = newHasher(info.checksum, info.size ?? (total || undefined));
  if (hash && offset > 0) await hashFile(hash, partial, input.signal);

  const handle = await open(partial, offset > 0 ? "a" : "w");
  let done = offset;
  try {
    input.onProgress?.(done, total);
    if (response?.body) {
      try {
        for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
          armIdleTimer();
          await handle.write(chunk);
          hash?.update(chunk);
          done += chunk.byteLength;
          input.onProgress?.(done, total);
        }
      } catch (error) {
        if (input.signal?.aborted) throw error;
        if (idle.signal.aborted) throw timeoutError();
        throw networkError(error, info.downloadUrl);
      }
    }
    await handle.sync();
  } finally {
    clearTimeout(timer);
    await handle.close();
  }

  if (info.size !== undefined && done !== info.size) {
    // The connection ended early without an error: keep the partial, a rerun resumes it.
    throw new HubError(
      "HUB_SIZE_MISMATCH",
      `${ref.repo}/${ref.file}: got ${done} of ${info.size} bytes`,
      "the connection ended early; run the same command again to resume",
    );
  }
  if (hash) {
    const digest = hash.digest("hex");
    if (digest !== info.checksum!.hex) {
      await rm(partial, { force: true });
      const name = info.checksum!.kind === "sha256" ? "SHA-256" : "git SHA-1";
      return {
        ok: false,
        resumedFrom,
        error: new HubError(
          "HUB_CHECKSUM_MISMATCH",
          `${ref.repo}/${ref.file}: ${name} mismatch: expected ${info.checksum!.hex}, got ${digest}`,
          "the download was corrupted and has been deleted; run the command again",
        ),
      };
    }
  }
  await rename(partial, target);
  return {
    ok: true,
    result: {
      path: target,
      bytes: done,
      verifiedWith: hash ? info.checksum!.kind : undefined,
      checksum: hash ? info.checksum!.hex : undefined,
      resumedFrom,
      cached: false,
    },
  };
}
