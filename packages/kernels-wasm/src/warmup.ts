// V8 runs a WebAssembly function first with its baseline compiler (Liftoff, 1.5-2x slower here)
// and recompiles it with TurboFan only once it has run enough. In a chat, the matrix x vector
// kernel is barely used during the prompt, so the first generated tokens would run on baseline
// code while TurboFan compiles in the background. A few tiny calls on a private instance (the
// compiled code is shared by every instance of the module, workers included) start that
// recompilation while the weights load.

const CALLS = 12;

/** Call the hot kernels a few times on zeros in a throwaway 4 MiB memory. */
export function warmUp(module: WebAssembly.Module): void {
  const memory = new WebAssembly.Memory({ initial: 64, maximum: 64, shared: true });
  const k = new WebAssembly.Instance(module, { env: { memory } }).exports as Record<
    string,
    (...args: number[]) => void
  >;
  const n = 1024;
  const rows = 64;
  const rowBytes = 576; // 1024 columns of Q4_0 or Q4_K
  const w = 1 << 16;
  const x = 1 << 20;
  const act = 3 << 19;
  const y = 2 << 20;
  const tmp = 3 << 20;
  const actStride = 4 * n + 12 * (n / 32);
  for (let i = 0; i < CALLS; i++) {
    k.quantizeQ8(x, 4 * n, n, act, actStride, 0, 1);
    k.quantizeQ8K(x, 4 * n, n, act, actStride, 0, 1);
    k.matmul(2 | 256, w, rowBytes, rows, n, act, actStride, 1, y, rows, tmp, 0, rows);
    k.matmulTiled(2, w, rowBytes, rows, n, act, 0, 4, y, rows, tmp, 0, rows);
    k.rmsNorm(x, 0, y, n, n, 1e-5, 0, 1);
    k.siluMul(x, x, y, n);
    k.add(x, x, y, n);
    k.storeF16(x, y, n);
    // one token, 32 heads of 64 over 64 cached positions of an F16 cache (4 KV heads)
    k.attention(x, 2048, w, w + 32768, 1, 256, y, 2048, tmp, 32, 4, 64, 63, 0.125, 0, 32);
  }
}
