import { spawn } from "node:child_process";
import { existsSync, readFileSync, statSync } from "node:fs";
import { mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { downloadHubFile, type HubError, hubCacheDir, parseEtag } from "../src/hub";
import { type FakeHub, gitSha1, randomBytes, sha256, startFakeHub } from "./helpers/fake-hub";

const model = randomBytes(300_000, 7); // an LFS file: spans many chunks
const readme = new TextEncoder().encode("# 中文模型\n小文件直接存在 git 里。\n"); // a git file

let hub: FakeHub;
let dir: string;

beforeEach(async () => {
  hub = await startFakeHub({
    "hfl/tiny-zh/model.gguf": { content: model },
    "hfl/tiny-zh/sub/README.md": { content: readme, lfs: false },
  });
  dir = await mkdtemp(join(tmpdir(), "cllama-pull-"));
});

afterEach(async () => {
  await hub.close();
  await rm(dir, { recursive: true, force: true });
});

const pull = (file: string, extra: Partial<Parameters<typeof downloadHubFile>[0]> = {}) =>
  downloadHubFile({ repo: "hfl/tiny-zh", file, endpoint: hub.endpoint, outDir: dir, ...extra });

async function rejection(promise: Promise<unknown>): Promise<HubError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(Error);
  return error as HubError;
}

describe("downloadHubFile", () => {
  it("downloads an LFS file from the CDN and verifies its SHA-256", async () => {
    const result = await pull("model.gguf", { token: "hf_secret" });
    expect(result).toMatchObject({
      bytes: model.byteLength,
      verifiedWith: "sha256",
      checksum: sha256(model),
    });
    expect(readFileSync(result.path).equals(model)).toBe(true);
    expect(await readdir(dir)).toEqual(["model.gguf"]); // no partial left behind
    // The token goes to the hub, never to the CDN host.
    expect(hub.requests.find((r) => r.server === "hub")?.authorization).toBe("Bearer hf_secret");
    expect(hub.requests.filter((r) => r.server === "cdn").every((r) => r.authorization === undefined)).toBe(
      true,
    );
  });

  it("verifies a small git file by its git blob SHA-1 and keeps its folder", async () => {
    const result = await pull("sub/README.md");
    expect(result.verifiedWith).toBe("git-sha1");
    expect(result.checksum).toBe(gitSha1(readme));
    expect(result.path).toBe(join(dir, "sub", "README.md"));
    expect(readFileSync(result.path, "utf8")).toContain("中文模型");
  });

  it("resumes after an interruption with a Range request", async () => {
    const controller = new AbortController();
    const first = pull("model.gguf", {
      signal: controller.signal,
      onProgress: (done) => {
        if (done >= 100_000) controller.abort();
      },
    });
    await rejection(first);
    expect(existsSync(join(dir, "model.gguf"))).toBe(false);
    const kept = statSync(join(dir, "model.gguf.partial")).size;
    expect(kept).toBeGreaterThanOrEqual(100_000);
    expect(kept).toBeLessThan(model.byteLength);

    const seen: number[] = [];
    const result = await pull("model.gguf", { onProgress: (done) => seen.push(done) });
    expect(result.resumedFrom).toBe(kept);
    expect(seen[0]).toBe(kept); // the bar starts where the last run stopped
    expect(hub.requests.filter((r) => r.server === "cdn").at(-1)?.range).toBe(`bytes=${kept}-`);
    expect(readFileSync(result.path).equals(model)).toBe(true);
    expect(await readdir(dir)).toEqual(["model.gguf"]);
  });

  it("keeps the partial when the connection drops, and the next run completes it", async () => {
    hub.misbehave.dropAfterBytes = 150_000;
    const error = await rejection(pull("model.gguf"));
    expect(["HUB_NETWORK", "HUB_SIZE_MISMATCH"]).toContain(error.code);
    expect(error.hint).toMatch(/again/);
    expect(existsSync(join(dir, "model.gguf.partial"))).toBe(true);
    const result = await pull("model.gguf");
    expect(result.resumedFrom).toBeGreaterThan(0);
    expect(sha256(readFileSync(result.path))).toBe(sha256(model));
  });

  it("rejects a corrupted byte: checksum error, no file, no partial", async () => {
    hub.misbehave.corruptByteAt = 12_345;
    const error = await rejection(pull("model.gguf"));
    expect(error.code).toBe("HUB_CHECKSUM_MISMATCH");
    expect(error.message).toContain(sha256(model));
    expect(await readdir(dir)).toEqual([]);
  });

  it("starts over once when a resumed file fails its checksum (stale partial)", async () => {
    await writeFile(join(dir, "model.gguf.partial"), randomBytes(50_000, 99)); // not a prefix of model
    const result = await pull("model.gguf");
    expect(result.resumedFrom).toBe(0);
    expect(readFileSync(result.path).equals(model)).toBe(true);
  });

  it("starts from zero when the server ignores Range", async () => {
    await writeFile(join(dir, "model.gguf.partial"), model.subarray(0, 40_000));
    hub.misbehave.ignoreRange = true;
    const result = await pull("model.gguf");
    expect(result.resumedFrom).toBe(0);
    expect(readFileSync(result.path).equals(model)).toBe(true);
  });

  it("says 404 with a hint to check the names", async () => {
    const error = await rejection(pull("no-such-file.gguf"));
    expect(error.code).toBe("HUB_NOT_FOUND");
    expect(error.message).toContain("hfl/tiny-zh/no-such-file.gguf");
    expect(error.hint).toContain("/hfl/tiny-zh/tree/main");
  });

  it("follows a slow server, reporting progress as bytes arrive", async () => {
    Object.assign(hub.misbehave, { chunkSize: 20_000, delayMs: 15 });
    const seen: number[] = [];
    const result = await pull("model.gguf", { onProgress: (done) => seen.push(done) });
    expect(readFileSync(result.path).equals(model)).toBe(true);
    expect(seen.length).toBeGreaterThanOrEqual(model.byteLength / 20_000);
    expect(seen).toEqual([...seen].sort((a, b) => a - b));
    expect(seen.at(-1)).toBe(model.byteLength);
  });

  it("gives up on a stalled server, keeps the partial, and resumes later", async () => {
    hub.misbehave.stallAfterBytes = 64_000;
    const error = await rejection(pull("model.gguf", { idleTimeoutMs: 1000 }));
    expect(error.code).toBe("HUB_TIMEOUT");
    expect(error.hint).toMatch(/resume/);
    const kept = statSync(join(dir, "model.gguf.partial")).size;
    expect(kept).toBeGreaterThan(0);
    expect(kept).toBeLessThanOrEqual(64_000);
    hub.misbehave.stallAfterBytes = undefined;
    const result = await pull("model.gguf");
    expect(result.resumedFrom).toBe(kept);
    expect(readFileSync(result.path).equals(model)).toBe(true);
  });

  it("finds a complete file in place without downloading it again", async () => {
    await pull("model.gguf");
    const before = hub.requests.filter((r) => r.server === "cdn").length;
    const again = await pull("model.gguf");
    expect(again.cached).toBe(true);
    expect(hub.requests.filter((r) => r.server === "cdn").length).toBe(before);
  });

  it("refuses names that could escape the folder", async () => {
    expect((await rejection(pull("../etc/passwd"))).code).toBe("HUB_BAD_NAME");
    expect(
      (await rejection(downloadHubFile({ repo: "a/b/c", file: "x", endpoint: hub.endpoint }))).code,
    ).toBe("HUB_BAD_NAME");
  });
});

describe("helpers", () => {
  it("reads SHA-256 and git SHA-1 ETags, quoted or weak", () => {
    expect(parseEtag(`"${"a".repeat(64)}"`)).toEqual({ kind: "sha256", hex: "a".repeat(64) });
    expect(parseEtag(`W/"${"B".repeat(40)}"`)).toEqual({ kind: "git-sha1", hex: "b".repeat(40) });
    expect(parseEtag('"xyz-123"')).toBeUndefined();
  });

  it("puts the cache under CLLAMA_CACHE, one folder per repo revision", () => {
    expect(hubCacheDir("hfl/tiny-zh", "main", { CLLAMA_CACHE: "/c" })).toBe("/c/hub/hfl--tiny-zh/main");
    expect(hubCacheDir("gpt2", "v1", { XDG_CACHE_HOME: "/x" })).toBe("/x/cllama/hub/gpt2/v1");
  });
});

// The built binary, as a user runs it. spawn (not spawnSync): the fake hub runs in this process.
const cli = join(dirname(fileURLToPath(import.meta.url)), "..", "dist", "cli.js");

function runCli(
  args: string[],
  env: Record<string, string>,
  onStderr?: (child: ReturnType<typeof spawn>) => void,
) {
  return new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = spawn(process.execPath, [cli, ...args], {
      env: { ...process.env, CLLAMA_PROGRESS: "0", ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => {
      stdout += d;
    });
    child.stderr.on("data", (d) => {
      stderr += d;
    });
    onStderr?.(child);
    child.on("close", (status) => resolve({ status, stdout, stderr }));
  });
}

describe("cllama pull", () => {
  const env = () => ({ CLLAMA_HF_ENDPOINT: hub.endpoint, CLLAMA_CACHE: dir });

  it("downloads into the cache and prints the path", async () => {
    const result = await runCli(["pull", "hfl/tiny-zh", "model.gguf"], env());
    expect(result.stderr).toBe("");
    expect(result.status).toBe(0);
    const path = result.stdout.trim();
    expect(path).toBe(join(dir, "hub", "hfl--tiny-zh", "main", "model.gguf"));
    expect(readFileSync(path).equals(model)).toBe(true);
  });

  it("-o puts the file in the given folder", async () => {
    const out = join(dir, "models");
    const result = await runCli(["pull", "hfl/tiny-zh", "model.gguf", "-o", out], env());
    expect(result.status).toBe(0);
    expect(result.stdout.trim()).toBe(join(out, "model.gguf"));
  });

  it("exits 2 with one line and a hint on 404", async () => {
    const result = await runCli(["pull", "hfl/tiny-zh", "missing.gguf"], env());
    expect(result.status).toBe(2);
    const lines = result.stderr.trim().split("\n");
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^cllama: .*not found/);
    expect(lines[1]).toMatch(/^hint: check the repo and file name/);
  });

  it("exits 2 on a corrupted download and leaves no file", async () => {
    hub.misbehave.corruptByteAt = 1;
    const result = await runCli(["pull", "hfl/tiny-zh", "model.gguf", "-o", dir], env());
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(/SHA-256 mismatch/);
    expect(await readdir(dir)).toEqual([]);
  });

  it("stops on Ctrl-C with exit 130, never writes the final name, and resumes on the next run", async () => {
    Object.assign(hub.misbehave, { chunkSize: 10_000, delayMs: 80 }); // about 2.4 s in all
    const partial = join(dir, "model.gguf.partial");
    const interrupted = await runCli(["pull", "hfl/tiny-zh", "model.gguf", "-o", dir], env(), (child) => {
      const poll = setInterval(() => {
        if (existsSync(partial) && statSync(partial).size >= 30_000) {
          clearInterval(poll);
          child.kill("SIGINT");
        }
      }, 10);
      child.on("close", () => clearInterval(poll));
    });
    expect(interrupted.status).toBe(130);
    expect(interrupted.stderr.trim()).toBe("cllama: interrupted");
    expect(existsSync(join(dir, "model.gguf"))).toBe(false);
    const kept = statSync(partial).size;
    expect(kept).toBeLessThan(model.byteLength);

    Object.assign(hub.misbehave, { delayMs: 0 });
    const resumed = await runCli(["pull", "hfl/tiny-zh", "model.gguf", "-o", dir], env());
    expect(resumed.status).toBe(0);
    expect(hub.requests.filter((r) => r.server === "cdn").at(-1)?.range).toBe(`bytes=${kept}-`);
    expect(readFileSync(join(dir, "model.gguf")).equals(model)).toBe(true);
  });
});
