/**
 * A fixed set of worker threads converting row chunks; a job queue, one job per worker at a time.
 */
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import type { GgmlType } from "@cllama/gguf-format";
import { QuantizeError, type QuantizeErrorCode } from "./errors";
import type { WorkerJob, WorkerReply } from "./worker";

/** dist/worker.js beside the built node entry; from the sources (tests) the built one in dist/. */
function workerPath(): string {
  for (const rel of ["./worker.js", "../dist/worker.js"]) {
    const path = fileURLToPath(new URL(rel, import.meta.url));
    if (existsSync(path)) return path;
  }
  throw new QuantizeError("QUANTIZE_WORKER_FAILED", "dist/worker.js not found: build @cllama/quantize first");
}

interface Pending {
  job: WorkerJob;
  resolve: (out: Uint8Array) => void;
  reject: (error: Error) => void;
}

export class WorkerPool {
  private readonly idle: Worker[] = [];
  private readonly busy = new Map<Worker, Pending>();
  private readonly queue: Pending[] = [];
  private readonly workers: Worker[] = [];
  private nextId = 0;
  private failure: Error | undefined;

  constructor(readonly size: number) {
    const path = workerPath();
    for (let i = 0; i < size; i++) {
      const worker = new Worker(path);
      worker.on("message", (reply: WorkerReply) => this.onReply(worker, reply));
      worker.on("error", (error) => this.onCrash(worker, error));
      this.workers.push(worker);
      this.idle.push(worker);
    }
  }

  /** Convert `n` elements of `src` (its whole buffer is transferred: do not use it afterwards). */
  run(srcType: GgmlType, dstType: GgmlType, n: number, src: Uint8Array): Promise<Uint8Array> {
    if (this.failure) return Promise.reject(this.failure);
    const buffer =
      src.byteOffset === 0 && src.byteLength === src.buffer.byteLength
        ? (src.buffer as ArrayBuffer)
        : src.slice().buffer;
    return new Promise((resolve, reject) => {
      this.queue.push({ job: { id: this.nextId++, srcType, dstType, n, src: buffer }, resolve, reject });
      this.pump();
    });
  }

  private pump(): void {
    while (this.idle.length > 0 && this.queue.length > 0) {
      const worker = this.idle.pop()!;
      const pending = this.queue.shift()!;
      this.busy.set(worker, pending);
      worker.postMessage(pending.job, [pending.job.src]);
    }
  }

  private onReply(worker: Worker, reply: WorkerReply): void {
    const pending = this.busy.get(worker);
    this.busy.delete(worker);
    this.idle.push(worker);
    if (pending) {
      if (reply.ok) pending.resolve(new Uint8Array(reply.out));
      else
        pending.reject(
          reply.code
            ? new QuantizeError(reply.code as QuantizeErrorCode, reply.message, reply.hint)
            : new QuantizeError("QUANTIZE_WORKER_FAILED", reply.message),
        );
    }
    this.pump();
  }

  private onCrash(worker: Worker, error: Error): void {
    this.failure = new QuantizeError(
      "QUANTIZE_WORKER_FAILED",
      `a quantize worker crashed: ${error.message}`,
      undefined,
      {
        cause: error,
      },
    );
    this.busy.get(worker)?.reject(this.failure);
    this.busy.delete(worker);
    for (const pending of this.queue.splice(0)) pending.reject(this.failure);
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}
