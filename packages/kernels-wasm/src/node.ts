// Node entry: the same kernels with a worker_threads pool.

import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import { createKernels as createWith, type Kernels, type KernelsOptions, type PoolWorker } from "./kernels";

function spawnNodeWorker(source: string): PoolWorker {
  const w = new Worker(source, { eval: true });
  // A pool thread blocked in Atomics.wait must not keep the process alive.
  w.unref();
  return {
    postMessage: (m) => w.postMessage(m),
    onMessage: (fn) => {
      w.on("message", fn);
    },
    terminate: () => {
      void w.terminate();
    },
  };
}

/** createKernels with worker_threads; `threads` defaults to every core. */
export function createKernels(options: KernelsOptions = {}): Promise<Kernels> {
  return createWith({ threads: availableParallelism(), spawnWorker: spawnNodeWorker, ...options });
}

export * from "./index";
