/**
 * Process-level I/O the commands share: reading stdin, and turning Ctrl-C into an AbortSignal.
 *
 * Long commands run inside `withAbort`, hand the signal to the package (which writes
 * `name.partial` and renames only on success, removing the partial when aborted), and the CLI
 * exits 130 (128 + SIGINT, what shells expect) with one line on stderr:
 *
 *   await withAbort(async (signal) => {
 *     await quantizeGgufFile(input, output, { ftype, signal, onProgress: bar.onProgress });
 *   });
 */

/** Thrown by `withAbort` when the user pressed Ctrl-C; `main` maps it to exit code 130. */
export class InterruptedError extends Error {
  override name = "InterruptedError";
  readonly code = "INTERRUPTED";
  readonly exitCode = 130;
  constructor(message = "interrupted") {
    super(message);
  }
}

export function isInterrupted(error: unknown): boolean {
  return error instanceof InterruptedError || (error as { code?: unknown } | null)?.code === "INTERRUPTED";
}

/** Where SIGINT comes from; `process` by default, an EventEmitter in tests. */
export interface SignalSource {
  on(event: "SIGINT", listener: () => void): unknown;
  off(event: "SIGINT", listener: () => void): unknown;
}

export interface WithAbortOptions {
  source?: SignalSource;
  /**
   * What a second Ctrl-C does while the first is still being honoured (a package stuck in a long
   * synchronous step). Default: exit 130 at once, because the user insists.
   */
  onSecondInterrupt?: () => void;
  /** An outer signal to follow as well (e.g. a test's). */
  signal?: AbortSignal;
}

/**
 * Runs `task` with a signal that aborts on Ctrl-C (SIGINT). While it runs, SIGINT no longer kills
 * the process: the task gets the chance to stop and clean up. If the signal was aborted, the
 * outcome is an `InterruptedError` whatever the task threw (AbortError, a package's own error...).
 */
export async function withAbort<T>(
  task: (signal: AbortSignal) => Promise<T>,
  options: WithAbortOptions = {},
): Promise<T> {
  const source = options.source ?? process;
  const controller = new AbortController();
  const onOuterAbort = () => controller.abort(new InterruptedError());
  if (options.signal?.aborted) onOuterAbort();
  options.signal?.addEventListener("abort", onOuterAbort, { once: true });
  const onSigint = () => {
    if (!controller.signal.aborted) {
      controller.abort(new InterruptedError());
      return;
    }
    (options.onSecondInterrupt ?? (() => process.exit(130)))();
  };
  source.on("SIGINT", onSigint);
  try {
    const result = await task(controller.signal);
    if (controller.signal.aborted) throw new InterruptedError();
    return result;
  } catch (error) {
    if (controller.signal.aborted) throw new InterruptedError();
    throw error;
  } finally {
    source.off("SIGINT", onSigint);
    options.signal?.removeEventListener("abort", onOuterAbort);
  }
}

/** Throws the InterruptedError when `signal` is aborted; for loops between awaits. */
export function throwIfInterrupted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new InterruptedError();
}

/** All of stdin (or `stream`) as bytes. */
export async function readStdinBytes(stream: AsyncIterable<unknown> = process.stdin): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let length = 0;
  for await (const chunk of stream) {
    // process.stdin yields Buffers (Uint8Arrays); a stream with an encoding set yields strings.
    const bytes = typeof chunk === "string" ? new TextEncoder().encode(chunk) : (chunk as Uint8Array);
    chunks.push(bytes);
    length += bytes.byteLength;
  }
  const all = new Uint8Array(length);
  let offset = 0;
  for (const chunk of chunks) {
    all.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return all;
}

/**
 * All of stdin (or `stream`) as UTF-8 text. Decoded once at the end, so a multi-byte Chinese
 * character split across two chunks is never turned into U+FFFD. A leading BOM is dropped.
 */
export async function readStdin(stream: AsyncIterable<unknown> = process.stdin): Promise<string> {
  return new TextDecoder("utf-8").decode(await readStdinBytes(stream));
}
