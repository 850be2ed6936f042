/**
 * Worker thread of the file quantizer: converts row chunks sent by `pool.ts`. Input and output
 * buffers are transferred, never copied.
 */
import { parentPort } from "node:worker_threads";
import type { GgmlType } from "@cllama/gguf-format";
import { convertRows } from "./convert";

export interface WorkerJob {
  id: number;
  srcType: GgmlType;
  dstType: GgmlType;
  n: number;
  src: ArrayBuffer;
}

export type WorkerReply =
  | { id: number; ok: true; out: ArrayBuffer }
  | { id: number; ok: false; code?: string; message: string; hint?: string };

parentPort?.on("message", (job: WorkerJob) => {
  try {
    const out = convertRows(job.srcType, new Uint8Array(job.src), job.n, job.dstType);
    const buffer = out.buffer as ArrayBuffer;
    parentPort!.postMessage({ id: job.id, ok: true, out: buffer } satisfies WorkerReply, [buffer]);
  } catch (error) {
    const e = error as { code?: string; message?: string; hint?: string };
    parentPort!.postMessage({
      id: job.id,
      ok: false,
      code: e.code,
      message: e.message ?? String(error),
      hint: e.hint,
    } satisfies WorkerReply);
  }
});
