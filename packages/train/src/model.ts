/**
 * A LLaMA decoder for training: one call runs the forward pass over a batch of token sequences,
 * the mean cross-entropy, and (optionally) the backward pass, adding gradients into every
 * trainable parameter. With LoRA enabled the base linear weights are frozen and each target
 * projection gains `scale * B A` (PEFT's lora_A [r, in], lora_B [out, r]).
 */
import { checkConfig, type LlamaConfig } from "./config";
import { TrainError } from "./errors";
import { type MatmulBackend, transpose } from "./matmul";
import {
  attentionBackward,
  attentionForward,
  crossEntropy,
  rmsNormBackward,
  rmsNormForward,
  rope,
  ropeTables,
  swiglu,
  swigluBackward,
} from "./ops";
import { getParam, layerPrefix, type Param, type ParamStore, Rng } from "./params";

export const LORA_TARGETS = [
  "q_proj",
  "k_proj",
  "v_proj",
  "o_proj",
  "gate_proj",
  "up_proj",
  "down_proj",
] as const;
export type LoraTarget = (typeof LORA_TARGETS)[number];

export interface LoraOptions {
  r: number;
  alpha: number;
  /** Default: all seven projections, as Chinese-Alpaca's training script. */
  targets?: readonly LoraTarget[];
  /** Full tensors trained beside the adapters (default: embed_tokens and lm_head). */
  modulesToSave?: readonly ("embed_tokens" | "lm_head")[];
  seed?: number;
}

export interface LoraState {
  r: number;
  alpha: number;
  scale: number;
  targets: LoraTarget[];
  modulesToSave: string[];
  /** Keyed by the base weight name. */
  pairs: Map<string, { a: Param; b: Param }>;
}

export interface StepResult {
  /** Mean cross-entropy over the counted positions. */
  loss: number;
  /** Positions with a target (>= 0). */
  count: number;
}

const PROJ_PATH: Record<LoraTarget, string> = {
  q_proj: "self_attn.q_proj",
  k_proj: "self_attn.k_proj",
  v_proj: "self_attn.v_proj",
  o_proj: "self_attn.o_proj",
  gate_proj: "mlp.gate_proj",
  up_proj: "mlp.up_proj",
  down_proj: "mlp.down_proj",
};

/** What a linear layer's backward pass needs. */
interface LinearCache {
  x: Float32Array;
  xa?: Float32Array;
}

export class LlamaModel {
  readonly config: LlamaConfig;
  lora: LoraState | null = null;
  private readonly tables: { cos: Float32Array; sin: Float32Array };

  constructor(
    config: LlamaConfig,
    readonly params: ParamStore,
    readonly mm: MatmulBackend,
  ) {
    this.config = checkConfig(config);
    this.tables = ropeTables(config.maxSeqLen, config.dim / config.nHeads, config.ropeTheta);
  }

  /** Freeze the base model and add LoRA pairs (A random as PEFT's kaiming-uniform, B zero). */
  enableLora(options: LoraOptions): LoraState {
    const c = this.config;
    const rng = new Rng(options.seed ?? 7);
    const targets = [...(options.targets ?? LORA_TARGETS)];
    const modulesToSave = [...(options.modulesToSave ?? ["embed_tokens", "lm_head"])];
    const keep = new Set<string>(
      modulesToSave.map((m) => (m === "lm_head" ? "lm_head.weight" : "model.embed_tokens.weight")),
    );
    for (const p of this.params.values()) if (!keep.has(p.name)) p.grad = null;
    const pairs = new Map<string, { a: Param; b: Param }>();
    for (let l = 0; l < c.nLayers; l++) {
      for (const t of targets) {
        const name = `${layerPrefix(l)}${PROJ_PATH[t]}.weight`;
        const [out, inp] = getParam(this.params, name).shape as [number, number];
        const bound = 1 / Math.sqrt(inp);
        const a = new Float32Array(options.r * inp);
        for (let i = 0; i < a.length; i++) a[i] = (rng.next() * 2 - 1) * bound;
        const base = name.slice(0, -".weight".length);
        pairs.set(name, {
          a: {
            name: `${base}.lora_A.weight`,
            shape: [options.r, inp],
            data: a,
            grad: new Float32Array(a.length),
          },
          b: {
            name: `${base}.lora_B.weight`,
            shape: [out, options.r],
            data: new Float32Array(out * options.r),
            grad: new Float32Array(out * options.r),
          },
        });
      }
    }
    this.lora = {
      r: options.r,
      alpha: options.alpha,
      scale: options.alpha / options.r,
      targets,
      modulesToSave,
      pairs,
    };
    return this.lora;
  }

  /** Parameters the optimizer updates. */
  trainable(): Param[] {
    const out = [...this.params.values()].filter((p) => p.grad !== null);
    for (const { a, b } of this.lora?.pairs.values() ?? []) out.push(a, b);
    return out;
  }

  /**
   * `tokens` and `targets` hold `batch * seqLen` ids (target -1: not counted). With `backward`,
   * gradients of (loss * gradScale) are added to the trainable parameters.
   */
  step(
    tokens: Int32Array,
    targets: Int32Array,
    batch: number,
    seqLen: number,
    options: { backward?: boolean; gradScale?: number } = {},
  ): StepResult {
    const c = this.config;
    const n = batch * seqLen;
    if (tokens.length !== n || targets.length !== n) {
      throw new TrainError(
        "TRAIN_BAD_BATCH",
        `batch ${batch} x ${seqLen} needs ${n} tokens, got ${tokens.length}`,
      );
    }
    if (seqLen > c.maxSeqLen) {
      throw new TrainError("TRAIN_BAD_BATCH", `sequence of ${seqLen} tokens, the model takes ${c.maxSeqLen}`);
    }
    const backward = options.backward ?? false;
    const D = c.dim;
    const H = c.nHeads;
    const hd = D / H;
    const P = (name: string) => getParam(this.params, name);

    // Embedding.
    const emb = P("model.embed_tokens.weight");
    let x = new Float32Array(n * D);
    for (let t = 0; t < n; t++) {
      const id = tokens[t]!;
      if (id < 0 || id >= c.vocabSize) {
        throw new TrainError(
          "TRAIN_BAD_BATCH",
          `token ${id} at ${t} is outside the vocabulary of ${c.vocabSize}`,
        );
      }
      x.set(emb.data.subarray(id * D, id * D + D), t * D);
    }

    type LayerCache = Record<string, unknown>;
    const caches: LayerCache[] = [];
    for (let l = 0; l < c.nLayers; l++) {
      const p = layerPrefix(l);
      const n1 = rmsNormForward(x, P(`${p}input_layernorm.weight`).data, n, D, c.normEps);
      const [q, cq] = this.linear(`${p}self_attn.q_proj.weight`, n1.y, n);
      const [k, ck] = this.linear(`${p}self_attn.k_proj.weight`, n1.y, n);
      const [v, cv] = this.linear(`${p}self_attn.v_proj.weight`, n1.y, n);
      rope(q, n, seqLen, H, hd, this.tables, false);
      rope(k, n, seqLen, H, hd, this.tables, false);
      const att = attentionForward(q, k, v, batch, seqLen, H, hd);
      const [o, co] = this.linear(`${p}self_attn.o_proj.weight`, att.out, n);
      const x2 = new Float32Array(n * D);
      for (let i = 0; i < x2.length; i++) x2[i] = x[i]! + o[i]!;
      const n2 = rmsNormForward(x2, P(`${p}post_attention_layernorm.weight`).data, n, D, c.normEps);
      const [gate, cg] = this.linear(`${p}mlp.gate_proj.weight`, n2.y, n);
      const [up, cu] = this.linear(`${p}mlp.up_proj.weight`, n2.y, n);
      const s = swiglu(gate, up);
      const [f, cd] = this.linear(`${p}mlp.down_proj.weight`, s, n);
      const x3 = new Float32Array(n * D);
      for (let i = 0; i < x3.length; i++) x3[i] = x2[i]! + f[i]!;
      if (backward) caches.push({ x, n1, cq, ck, cv, q, k, v, att, co, x2, n2, cg, cu, gate, up, cd });
      x = x3;
    }
    const nf = rmsNormForward(x, P("model.norm.weight").data, n, D, c.normEps);
    const [logits, cHead] = this.linear("lm_head.weight", nf.y, n);
    const result = crossEntropy(logits, targets, c.vocabSize, backward, options.gradScale ?? 1);
    if (!Number.isFinite(result.loss)) {
      throw new TrainError("TRAIN_NOT_FINITE", `loss is ${result.loss}`, "lower the learning rate");
    }
    if (!backward) return result;

    // Backward: logits now hold dLoss/dlogits.
    let dx = this.linearBackward("lm_head.weight", logits, cHead, n);
    const normF = P("model.norm.weight");
    dx = rmsNormBackward(dx, x, normF.data, nf.rstd, n, D, normF.grad);
    for (let l = c.nLayers - 1; l >= 0; l--) {
      const p = layerPrefix(l);
      const k = caches[l]! as {
        x: Float32Array;
        n1: { y: Float32Array; rstd: Float32Array };
        cq: LinearCache;
        ck: LinearCache;
        cv: LinearCache;
        q: Float32Array;
        k: Float32Array;
        v: Float32Array;
        att: { out: Float32Array; probs: Float32Array };
        co: LinearCache;
        x2: Float32Array;
        n2: { y: Float32Array; rstd: Float32Array };
        cg: LinearCache;
        cu: LinearCache;
        gate: Float32Array;
        up: Float32Array;
        cd: LinearCache;
      };
      caches[l] = {}; // free as we go
      // FFN: x3 = x2 + down(swiglu(gate(n2), up(n2)))
      const ds = this.linearBackward(`${p}mlp.down_proj.weight`, dx, k.cd, n);
      const { dGate, dUp } = swigluBackward(ds, k.gate, k.up);
      const dn2 = this.linearBackward(`${p}mlp.gate_proj.weight`, dGate, k.cg, n);
      addInto(dn2, this.linearBackward(`${p}mlp.up_proj.weight`, dUp, k.cu, n));
      const g2 = P(`${p}post_attention_layernorm.weight`);
      addInto(dx, rmsNormBackward(dn2, k.x2, g2.data, k.n2.rstd, n, D, g2.grad));
      // Attention: x2 = x + o(attn(rope(q(n1)), rope(k(n1)), v(n1)))
      const dAtt = this.linearBackward(`${p}self_attn.o_proj.weight`, dx, k.co, n);
      const { dq, dk, dv } = attentionBackward(dAtt, k.q, k.k, k.v, k.att.probs, batch, seqLen, H, hd);
      rope(dq, n, seqLen, H, hd, this.tables, true);
      rope(dk, n, seqLen, H, hd, this.tables, true);
      const dn1 = this.linearBackward(`${p}self_attn.q_proj.weight`, dq, k.cq, n);
      addInto(dn1, this.linearBackward(`${p}self_attn.k_proj.weight`, dk, k.ck, n));
      addInto(dn1, this.linearBackward(`${p}self_attn.v_proj.weight`, dv, k.cv, n));
      const g1 = P(`${p}input_layernorm.weight`);
      addInto(dx, rmsNormBackward(dn1, k.x, g1.data, k.n1.rstd, n, D, g1.grad));
    }
    if (emb.grad) {
      for (let t = 0; t < n; t++) {
        const o = tokens[t]! * D;
        for (let i = 0; i < D; i++) emb.grad[o + i]! += dx[t * D + i]!;
      }
    }
    return result;
  }

  /**
   * x^T, computed once per input: q/k/v and gate/up share theirs. Entries die with the inputs
   * (a WeakMap keyed by the activation array).
   */
  private readonly transposes = new WeakMap<Float32Array, Float32Array>();
  private transposed(x: Float32Array, rows: number, cols: number): Float32Array {
    let t = this.transposes.get(x);
    if (!t) {
      t = transpose(x, rows, cols);
      this.transposes.set(x, t);
    }
    return t;
  }

  /** y = x W^T (+ scale * (x A^T) B^T with LoRA). */
  private linear(name: string, x: Float32Array, n: number): [Float32Array, LinearCache] {
    const w = getParam(this.params, name);
    const [out, inp] = w.shape as [number, number];
    const y = this.mm.abt(x, w.data, n, out, inp);
    const pair = this.lora?.pairs.get(name);
    if (!pair) return [y, { x }];
    const r = this.lora!.r;
    const xa = this.mm.abt(x, pair.a.data, n, r, inp);
    const delta = this.mm.abt(xa, pair.b.data, n, out, r);
    const s = this.lora!.scale;
    for (let i = 0; i < y.length; i++) y[i]! += s * delta[i]!;
    return [y, { x, xa }];
  }

  /** Returns dx; adds dW (or dA, dB) into the gradients. */
  private linearBackward(name: string, dy: Float32Array, cache: LinearCache, n: number): Float32Array {
    const w = getParam(this.params, name);
    const [out, inp] = w.shape as [number, number];
    const mm = this.mm;
    const dx = mm.abt(dy, transpose(w.data, out, inp), n, inp, out);
    const needDyT = w.grad !== null || cache.xa !== undefined;
    const dyT = needDyT ? transpose(dy, n, out) : null;
    if (w.grad) addInto(w.grad, mm.abt(dyT!, this.transposed(cache.x, n, inp), out, inp, n));
    const pair = this.lora?.pairs.get(name);
    if (pair && cache.xa) {
      const r = this.lora!.r;
      const s = this.lora!.scale;
      // dB = s dy^T xa ; dxa = s dy B ; dA = dxa^T x ; dx += dxa A
      const dB = mm.abt(dyT!, transpose(cache.xa, n, r), out, r, n);
      for (let i = 0; i < dB.length; i++) pair.b.grad![i]! += s * dB[i]!;
      const dxa = mm.abt(dy, transpose(pair.b.data, out, r), n, r, out);
      for (let i = 0; i < dxa.length; i++) dxa[i]! *= s;
      addInto(pair.a.grad!, mm.abt(transpose(dxa, n, r), this.transposed(cache.x, n, inp), r, inp, n));
      addInto(dx, mm.abt(dxa, transpose(pair.a.data, r, inp), n, inp, r));
    }
    return dx;
  }
}

function addInto(dst: Float32Array, src: Float32Array): void {
  for (let i = 0; i < dst.length; i++) dst[i]! += src[i]!;
}
