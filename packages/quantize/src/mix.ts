/**
 * llama-quantize's type mixes: which ggml type each tensor of a model gets for a file type.
 * A port of llama.cpp's src/llama-quant.cpp (`tensor_allows_quantization`,
 * `llama_tensor_get_type_impl`, `tensor_type_fallback`) for the file types this package produces.
 * The rules count attn_v / ffn_down tensors in the order llama.cpp visits them, so tensors must be
 * planned in that order: see `llamaTensorOrder`.
 */
import { GgmlType, LlamaFileType } from "@cllama/gguf-format";
import { codecFor } from "./codecs";
import { QuantizeError } from "./errors";
import { defaultTypeForFtype } from "./ftype";

export interface MixTensor {
  name: string;
  type: GgmlType;
  /** ggml `ne`, innermost first. */
  shape: readonly number[];
}

/** The hyper-parameters the rules look at (from `<arch>.*` metadata). */
export interface MixModel {
  arch: string;
  nLayer: number;
  nHead: number;
  nHeadKv: number;
  nExpert: number;
}

export interface MixOptions {
  ftype: LlamaFileType;
  /** Every quantizable tensor gets the default type (llama-quantize --pure). */
  pure?: boolean;
  /** --output-tensor-type */
  outputTensorType?: GgmlType;
  /** --token-embedding-type */
  tokenEmbeddingType?: GgmlType;
  /** false = keep output.weight as it is (llama-quantize --leave-output-tensor). */
  quantizeOutputTensor?: boolean;
}

type Category =
  | "token_embd"
  | "attn_q"
  | "attn_v"
  | "attn_k"
  | "attn_qkv"
  | "attn_kv_b"
  | "attn_output"
  | "ffn_up"
  | "ffn_gate"
  | "ffn_down"
  | "output"
  | "other";

function categoryOf(name: string): Category {
  if (name === "output.weight") return "output";
  if (name === "token_embd.weight" || name === "per_layer_token_embd.weight") return "token_embd";
  if (name.includes("attn_qkv.weight")) return "attn_qkv";
  if (name.includes("attn_kv_b.weight")) return "attn_kv_b";
  if (name.includes("attn_v.weight")) return "attn_v";
  if (name.includes("attn_k.weight")) return "attn_k";
  if (name.includes("attn_q.weight")) return "attn_q";
  if (name.includes("attn_output.weight")) return "attn_output";
  if (name.includes("ffn_up")) return "ffn_up";
  if (name.includes("ffn_gate")) return "ffn_gate";
  if (name.includes("ffn_down")) return "ffn_down";
  return "other";
}

const isAttnV = (c: Category) => c === "attn_v" || c === "attn_qkv" || c === "attn_kv_b";

/** ggml_n_dims: trailing dimensions of size 1 do not count. */
function nDims(shape: readonly number[]): number {
  for (let i = shape.length - 1; i >= 1; i--) if (shape[i] > 1) return i + 1;
  return 1;
}

/** The layer number sscanf("blk.%d.") finds, or -1. */
function layerOf(name: string): number {
  const m = /^blk\.\s*([+-]?\d+)/.exec(name);
  return m ? Number.parseInt(m[1], 10) : -1;
}

/**
 * The order llama.cpp's model loader keeps weights in (and llama-quantize writes them in):
 * tensors outside any block first, then block by block, each group sorted by name.
 */
export function llamaTensorOrder<T extends { name: string }>(tensors: readonly T[]): T[] {
  return [...tensors].sort((a, b) => {
    const la = layerOf(a.name);
    const lb = layerOf(b.name);
    if (la !== lb) return la - lb;
    return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
  });
}

const DROPPED_NAME_PARTS = [
  "_norm.weight",
  "ffn_gate_inp.weight",
  "ffn_gate_tid2eid.weight",
  "altup",
  "laurel",
  "per_layer_model_proj",
  "ssm_conv1d",
  "shortconv.conv.weight",
  "indexer.k_proj.weight",
  "indexer.q_proj.weight",
  "time_mix_first.weight",
  "time_mix_w0.weight",
  "time_mix_w1.weight",
  "time_mix_w2.weight",
  "time_mix_v0.weight",
  "time_mix_v1.weight",
  "time_mix_v2.weight",
  "time_mix_a0.weight",
  "time_mix_a1.weight",
  "time_mix_a2.weight",
  "time_mix_g1.weight",
  "time_mix_g2.weight",
  "time_mix_decay_w1.weight",
  "time_mix_decay_w2.weight",
  "time_mix_lerp_fused.weight",
  "attn_rel_b.weight",
  ".position_embd",
  "sam.pos_embd",
  "sam.neck.",
  "sam.net_",
  ".rel_pos",
  ".patch_embd",
  ".patch_merger",
  "a.rvq.codebook",
  "mm.a.code_embd",
];

/** llama.cpp's `tensor_allows_quantization`: 2-D+ weights, not norms, not a few special ones. */
export function tensorAllowsQuantization(
  tensor: MixTensor,
  options: Pick<MixOptions, "quantizeOutputTensor">,
): boolean {
  if (nDims(tensor.shape) < 2) return false;
  const name = tensor.name;
  if (!name.endsWith("weight")) return false;
  if (options.quantizeOutputTensor === false && name === "output.weight") return false;
  if (name === "position_embd.weight" || name === "token_types.weight") return false;
  return !DROPPED_NAME_PARTS.some((part) => name.includes(part));
}

function blockSizeOf(type: GgmlType): number {
  const codec = codecFor(type);
  if (!codec)
    throw new QuantizeError(
      "QUANTIZE_UNSUPPORTED_TYPE",
      `ggml type ${GgmlType[type] ?? type} is not supported`,
    );
  return codec.blockSize;
}

/** Mutable counters of one planning pass (llama.cpp's quantize_state_impl). */
export interface MixState {
  readonly model: MixModel;
  readonly options: MixOptions;
  readonly defaultType: GgmlType;
  nAttentionWv: number;
  iAttentionWv: number;
  iFfnDown: number;
  iFfnGate: number;
  iFfnUp: number;
  nFallback: number;
  hasTiedEmbeddings: boolean;
}

/** Start a planning pass over the model's tensor names (all of them, in llama.cpp's order). */
export function createMixState(names: readonly string[], model: MixModel, options: MixOptions): MixState {
  let nAttentionWv = 0;
  let hasTiedEmbeddings = true;
  for (const name of names) {
    const category = categoryOf(name);
    if (isAttnV(category)) nAttentionWv++;
    if (category === "output") hasTiedEmbeddings = false;
  }
  return {
    model,
    options,
    defaultType: defaultTypeForFtype(options.ftype),
    nAttentionWv,
    iAttentionWv: 0,
    iFfnDown: 0,
    iFfnGate: 0,
    iFfnUp: 0,
    nFallback: 0,
    hasTiedEmbeddings,
  };
}

const useMoreBits = (i: number, n: number): boolean =>
  i < Math.trunc(n / 8) || i >= Math.trunc((7 * n) / 8) || (i - Math.trunc(n / 8)) % 3 === 2;

function layerInfo(state: MixState, counter: number, name: string): [number, number] {
  const nLayer = state.model.nLayer;
  if (Math.max(1, state.model.nExpert) > 1) {
    const layer = layerOf(name);
    if (layer < 0 || layer >= nLayer) {
      throw new QuantizeError(
        "QUANTIZE_BAD_ARGUMENT",
        `cannot determine the layer of tensor ${name} (${nLayer} layers)`,
      );
    }
    return [layer, nLayer];
  }
  return [counter, nLayer];
}

/** llama_tensor_get_type_impl for the non-IQ file types. */
function mixRule(state: MixState, type: GgmlType, tensor: MixTensor, category: Category): GgmlType {
  const { model, options } = state;
  const ftype = options.ftype;
  const F = LlamaFileType;
  const falcon = model.arch === "falcon";
  const nGqa = model.nHeadKv > 0 ? Math.trunc(model.nHead / model.nHeadKv) : 0;
  const is70B = model.arch === "llama" && model.nLayer === 80 && model.nHead !== model.nHeadKv;
  let newType = type;

  if (category === "output" || (state.hasTiedEmbeddings && category === "token_embd")) {
    if (options.outputTensorType !== undefined) newType = options.outputTensorType;
    else if (falcon || tensor.shape[0] % blockSizeOf(newType) !== 0) newType = GgmlType.Q8_0;
    else if (newType !== GgmlType.Q8_0) newType = GgmlType.Q6_K;
  } else if (category === "token_embd") {
    if (options.tokenEmbeddingType !== undefined) newType = options.tokenEmbeddingType;
  } else if (isAttnV(category)) {
    if (ftype === F.MOSTLY_Q2_K) newType = nGqa >= 4 ? GgmlType.Q4_K : GgmlType.Q3_K;
    else if (ftype === F.MOSTLY_Q3_K_M) newType = state.iAttentionWv < 2 ? GgmlType.Q5_K : GgmlType.Q4_K;
    else if (ftype === F.MOSTLY_Q3_K_L) newType = GgmlType.Q5_K;
    else if (
      (ftype === F.MOSTLY_Q4_K_M || ftype === F.MOSTLY_Q5_K_M) &&
      useMoreBits(state.iAttentionWv, state.nAttentionWv)
    )
      newType = GgmlType.Q6_K;
    else if (ftype === F.MOSTLY_Q4_K_S && state.iAttentionWv < 4) newType = GgmlType.Q5_K;
    if (is70B && (newType === GgmlType.Q3_K || newType === GgmlType.Q4_K)) newType = GgmlType.Q5_K;
    if (model.nExpert === 8) newType = GgmlType.Q8_0;
    state.iAttentionWv++;
  } else if (category === "attn_k") {
    if (model.nExpert === 8) newType = GgmlType.Q8_0;
  } else if (category === "ffn_down") {
    const [iLayer, nLayer] = layerInfo(state, state.iFfnDown, tensor.name);
    const n8 = Math.trunc(nLayer / 8);
    const n16 = Math.trunc(nLayer / 16);
    if (ftype === F.MOSTLY_Q2_K) newType = GgmlType.Q3_K;
    else if (ftype === F.MOSTLY_Q3_K_M) {
      newType =
        iLayer < n16 ? GgmlType.Q5_K : !falcon || useMoreBits(iLayer, nLayer) ? GgmlType.Q4_K : GgmlType.Q3_K;
    } else if (ftype === F.MOSTLY_Q3_K_L) newType = falcon ? GgmlType.Q4_K : GgmlType.Q5_K;
    else if (ftype === F.MOSTLY_Q4_K_M) {
      if (falcon) {
        newType = iLayer < n16 ? GgmlType.Q6_K : useMoreBits(iLayer, nLayer) ? GgmlType.Q5_K : GgmlType.Q4_K;
      } else if (useMoreBits(iLayer, nLayer)) newType = GgmlType.Q6_K;
    } else if (ftype === F.MOSTLY_Q5_K_M && useMoreBits(iLayer, nLayer)) newType = GgmlType.Q6_K;
    else if (ftype === F.MOSTLY_Q4_K_S && !falcon && iLayer < n8) newType = GgmlType.Q5_K;
    state.iFfnDown++;
  } else if (category === "attn_output") {
    if (!falcon) {
      if (model.nExpert === 8) {
        if (
          ftype === F.MOSTLY_Q2_K ||
          ftype === F.MOSTLY_Q3_K_S ||
          ftype === F.MOSTLY_Q3_K_M ||
          ftype === F.MOSTLY_Q4_K_S ||
          ftype === F.MOSTLY_Q4_K_M
        )
          newType = GgmlType.Q5_K;
      } else if (ftype === F.MOSTLY_Q2_K) newType = GgmlType.Q3_K;
      else if (ftype === F.MOSTLY_Q3_K_M) newType = GgmlType.Q4_K;
      else if (ftype === F.MOSTLY_Q3_K_L) newType = GgmlType.Q5_K;
    } else if (ftype === F.MOSTLY_Q3_K_L) newType = GgmlType.Q4_K;
  } else if (category === "ffn_gate") {
    layerInfo(state, state.iFfnGate, tensor.name);
    state.iFfnGate++;
  } else if (category === "ffn_up") {
    layerInfo(state, state.iFfnUp, tensor.name);
    state.iFfnUp++;
  }
  return newType;
}

/** llama.cpp's `tensor_type_fallback`: a type the row length fits. */
function fallback(state: MixState, tensor: MixTensor, target: GgmlType): GgmlType {
  const ncols = tensor.shape[0];
  if (ncols % blockSizeOf(target) === 0) return target;
  state.nFallback++;
  let type: GgmlType;
  switch (target) {
    case GgmlType.Q2_K:
    case GgmlType.Q3_K:
      type = GgmlType.Q4_0;
      break;
    case GgmlType.Q4_K:
      type = GgmlType.Q5_0;
      break;
    case GgmlType.Q5_K:
      type = GgmlType.Q5_1;
      break;
    case GgmlType.Q6_K:
      type = GgmlType.Q8_0;
      break;
    default:
      throw new QuantizeError(
        "QUANTIZE_BAD_ROW_LENGTH",
        `tensor ${tensor.name}: rows of ${ncols} cannot take ${GgmlType[target]} and no fallback is defined for it`,
        "pick a type whose block size divides the row length",
      );
  }
  // the fallback's block (32) does not fit either: llama.cpp keeps such tensors in F16
  return ncols % blockSizeOf(type) === 0 ? type : GgmlType.F16;
}

/**
 * The type llama-quantize gives `tensor` (llama_tensor_get_type). Call it for every tensor in
 * llama.cpp's order (`llamaTensorOrder`) with one `state`: the rules count layers as they go.
 */
export function chooseTensorType(state: MixState, tensor: MixTensor): GgmlType {
  const { options } = state;
  if (!tensorAllowsQuantization(tensor, options)) return tensor.type;
  const category = categoryOf(tensor.name);
  if (options.tokenEmbeddingType !== undefined && category === "token_embd")
    return options.tokenEmbeddingType;
  if (options.outputTensorType !== undefined && category === "output") return options.outputTensorType;
  let type = state.defaultType;
  if (codecFor(type)?.blockSize !== 1) {
    // quantized default: the mix rules, then the row-length fallback
    if (!options.pure) type = mixRule(state, type, tensor, category);
    type = fallback(state, tensor, type);
  }
  return type;
}

/** Types of all tensors (given in llama.cpp's order), as llama-quantize would choose them. */
export function planTensorTypes(
  tensors: readonly MixTensor[],
  model: MixModel,
  options: MixOptions,
): GgmlType[] {
  const state = createMixState(
    tensors.map((t) => t.name),
    model,
    options,
  );
  return tensors.map((t) => chooseTensorType(state, t));
}
