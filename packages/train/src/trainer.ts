/** The training loop: gradient accumulation, AdamW on a schedule, held-out loss, logs. */
import type { Batch } from "./data";
import type { LlamaModel } from "./model";
import { AdamW, learningRate } from "./optim";
import { zeroGrads } from "./params";

export interface TrainLogEntry {
  step: number;
  lr: number;
  /** Mean training loss over the step's micro-batches. */
  loss: number;
  gradNorm: number;
  /** Tokens processed so far (all positions of every micro-batch). */
  tokens: number;
  seconds: number;
  /** Held-out loss, on evaluation steps. */
  evalLoss?: number;
}

export interface TrainOptions {
  steps: number;
  /** Micro-batches per optimizer step. */
  accumSteps?: number;
  nextBatch: () => Batch;
  peakLr: number;
  warmupSteps?: number;
  minLrRatio?: number;
  weightDecay?: number;
  clipNorm?: number;
  heldOut?: Batch[];
  /** Evaluate every this many steps (and after the last). */
  evalEvery?: number;
  onLog?: (entry: TrainLogEntry) => void;
  /** Called every `checkpointEvery` steps and after the last. */
  onCheckpoint?: (step: number, optimizer: AdamW) => void | Promise<void>;
  checkpointEvery?: number;
  optimizer?: AdamW;
  /** Learning-rate multipliers by parameter name (used when `optimizer` is not given). */
  lrScale?: Readonly<Record<string, number>>;
  /** First step (when resuming). */
  startStep?: number;
}

/** Mean loss over batches, weighted by counted positions. */
export function evaluate(model: LlamaModel, batches: Batch[]): number {
  let total = 0;
  let count = 0;
  for (const b of batches) {
    const r = model.step(b.tokens, b.targets, b.batch, b.seqLen);
    total += r.loss * r.count;
    count += r.count;
  }
  return count > 0 ? total / count : Number.NaN;
}

export async function train(model: LlamaModel, o: TrainOptions): Promise<TrainLogEntry[]> {
  const accum = o.accumSteps ?? 1;
  const optimizer =
    o.optimizer ??
    new AdamW({
      lr: o.peakLr,
      weightDecay: o.weightDecay ?? 0.1,
      clipNorm: o.clipNorm ?? 1,
      lrScale: o.lrScale,
    });
  const params = model.trainable();
  const log: TrainLogEntry[] = [];
  const start = performance.now();
  let tokens = 0;
  for (let step = o.startStep ?? 0; step < o.steps; step++) {
    for (const p of params) p.grad!.fill(0);
    zeroGrads(model.params);
    let loss = 0;
    for (let micro = 0; micro < accum; micro++) {
      const b = o.nextBatch();
      const r = model.step(b.tokens, b.targets, b.batch, b.seqLen, { backward: true, gradScale: 1 / accum });
      loss += r.loss / accum;
      tokens += b.tokens.length;
    }
    const lr = learningRate(step, {
      peakLr: o.peakLr,
      warmupSteps: o.warmupSteps ?? 0,
      totalSteps: o.steps,
      minRatio: o.minLrRatio,
    });
    const gradNorm = optimizer.update(params, lr);
    const entry: TrainLogEntry = {
      step: step + 1,
      lr,
      loss,
      gradNorm,
      tokens,
      seconds: (performance.now() - start) / 1000,
    };
    const last = step + 1 === o.steps;
    if (o.heldOut && o.evalEvery && ((step + 1) % o.evalEvery === 0 || last)) {
      entry.evalLoss = evaluate(model, o.heldOut);
    }
    log.push(entry);
    o.onLog?.(entry);
    if (o.onCheckpoint && o.checkpointEvery && ((step + 1) % o.checkpointEvery === 0 || last)) {
      await o.onCheckpoint(step + 1, optimizer);
    }
  }
  return log;
}
