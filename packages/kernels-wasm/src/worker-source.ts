// The pool worker, as source text so one string serves Node (worker_threads, eval) and browsers
// (a Blob URL) without a separate file to ship or resolve.
import * as C from "./control";

export const WORKER_SOURCE = `
"use strict";
const isNode = typeof process !== "undefined" && !!(process.versions && process.versions.node);
const port = isNode ? require("node:worker_threads").parentPort : self;
const onMessage = (fn) => (isNode ? port.on("message", fn) : (self.onmessage = (e) => fn(e.data)));
const FNS = ${JSON.stringify(C.KERNEL_FUNCTIONS)};
let ctrl, ctrlF, tid, module, instances = [], fns = [], seen = 0;
const SPIN = 20000;

function instantiate(memory) {
  const inst = new WebAssembly.Instance(module, { env: { memory } });
  instances.push(inst);
  fns.push(FNS.map((n) => inst.exports[n]));
}

function runChunk(chunk) {
  const njobs = ctrl[${C.NJOBS}];
  const per = ctrl[${C.CHUNK_UNITS}];
  const c0 = chunk * per, c1 = Math.min(c0 + per, ctrl[${C.TOTAL_UNITS}]);
  for (let j = 0; j < njobs; j++) {
    const b = ${C.JOBS} + j * ${C.JOB_SLOTS};
    const ju0 = ctrl[b + ${C.J_U0}];
    const a = Math.max(c0, ju0), z = Math.min(c1, ctrl[b + ${C.J_U1}]);
    if (a >= z) continue;
    const scale = ctrl[b + ${C.J_SCALE}], limit = ctrl[b + ${C.J_LIMIT}];
    const u0 = (a - ju0) * scale, u1 = Math.min((z - ju0) * scale, limit);
    const n = ctrl[b + ${C.J_NARGS}], floats = ctrl[b + ${C.J_FLOATS}];
    const args = new Array(n + 2);
    for (let i = 0; i < n; i++) args[i] = (floats >>> i) & 1 ? ctrlF[b + ${C.J_ARGS} + i] : ctrl[b + ${C.J_ARGS} + i];
    const t = ctrl[b + ${C.J_TID_ARG}];
    if (t >= 0) args[t] = (args[t] >>> 0) + tid * (ctrl[b + ${C.J_TID_STRIDE}] >>> 0);
    args[n] = u0; args[n + 1] = u1;
    fns[ctrl[b + ${C.J_ARENA}]][ctrl[b + ${C.J_FN}]](...args);
  }
}

function claimChunks(seq) {
  const tag = (seq & 0x7ff) << 20; // chunkTag in control.ts
  for (;;) {
    const cur = Atomics.load(ctrl, ${C.NEXT});
    if ((cur & ~${C.CHUNK_INDEX_MASK}) !== tag) return;
    const idx = cur & ${C.CHUNK_INDEX_MASK};
    const total = ctrl[${C.NCHUNKS}];
    if (idx >= total) return;
    if (Atomics.compareExchange(ctrl, ${C.NEXT}, cur, cur + 1) !== cur) continue;
    try { runChunk(idx); } catch (e) {
      Atomics.store(ctrl, ${C.ERROR}, 1);
      port.postMessage({ type: "error", message: String((e && e.stack) || e) });
    }
    if (Atomics.add(ctrl, ${C.CHUNKS_DONE}, 1) + 1 === total) Atomics.notify(ctrl, ${C.CHUNKS_DONE});
  }
}

function loop() {
  for (;;) {
    let s = Atomics.load(ctrl, ${C.SEQ});
    for (let i = 0; s === seen && i < SPIN; i++) s = Atomics.load(ctrl, ${C.SEQ});
    if (s === seen) { Atomics.wait(ctrl, ${C.SEQ}, seen, 50); continue; }
    seen = s;
    if (ctrl[${C.OP_SEQ}] !== s) continue; // a newer dispatch is being written: look again
    if (ctrl[${C.OP}] === ${C.OP_YIELD}) {
      Atomics.add(ctrl, ${C.DONE}, 1);
      Atomics.notify(ctrl, ${C.DONE});
      // The main thread now sends exactly one message; its handler restarts the loop.
      return;
    }
    claimChunks(s);
  }
}

onMessage((msg) => {
  if (msg.type === "init") {
    ctrl = new Int32Array(msg.control);
    ctrlF = new Float32Array(msg.control);
    tid = msg.tid;
    module = msg.module;
    seen = Atomics.load(ctrl, ${C.SEQ});
    for (const m of msg.memories) instantiate(m);
    port.postMessage({ type: "ready" });
    setTimeout(loop, 0);
  } else if (msg.type === "memory") {
    instantiate(msg.memory);
    port.postMessage({ type: "memory", index: instances.length - 1 });
    setTimeout(loop, 0);
  } else if (msg.type === "exit") {
    if (isNode) process.exit(0); else self.close();
  }
});
`;
