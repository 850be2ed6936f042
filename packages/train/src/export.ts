/**
 * What training leaves behind, as files (name -> bytes): a Hugging Face checkpoint, a PEFT LoRA
 * adapter folder (what @cllama/lora-merge and PEFT read), and the optimizer state for resuming.
 */
import { configFromHf, hfConfigJson } from "./config";
import { TrainError } from "./errors";
import type { LlamaModel } from "./model";
import type { AdamW } from "./optim";
import { type ParamStore, paramShapes, paramsFromTensors } from "./params";
import { decodeSafetensors, encodeSafetensors, type NamedTensor } from "./safetensors";

export type FileSet = Record<string, Uint8Array>;

const json = (value: unknown) => new TextEncoder().encode(`${JSON.stringify(value, null, 2)}\n`);

/** config.json + model.safetensors (+ tokenizer.model). */
export function hfCheckpointFiles(model: LlamaModel, tokenizerModel?: Uint8Array): FileSet {
  const tensors: NamedTensor[] = paramShapes(model.config).map(([name]) => model.params.get(name)!);
  const files: FileSet = {
    "config.json": json(hfConfigJson(model.config)),
    "model.safetensors": encodeSafetensors(tensors),
  };
  if (tokenizerModel) files["tokenizer.model"] = tokenizerModel;
  return files;
}

/** The model's config and parameters from a checkpoint written by `hfCheckpointFiles` (F32). */
export function readHfCheckpoint(files: { config: Uint8Array; weights: Uint8Array }) {
  const config = configFromHf(JSON.parse(new TextDecoder().decode(files.config)));
  const tensors = new Map<string, Float32Array>();
  for (const [name, t] of decodeSafetensors(files.weights, "model.safetensors")) tensors.set(name, t.data);
  const params: ParamStore = paramsFromTensors(config, tensors);
  return { config, params };
}

/** adapter_config.json + adapter_model.safetensors (+ tokenizer.model), PEFT's layout. */
export function peftAdapterFiles(
  model: LlamaModel,
  options: { baseModel?: string; tokenizerModel?: Uint8Array } = {},
): FileSet {
  const lora = model.lora;
  if (!lora)
    throw new TrainError(
      "TRAIN_BAD_CONFIG",
      "the model has no LoRA adapters to save",
      "call enableLora first",
    );
  const prefix = "base_model.model.";
  const tensors: NamedTensor[] = [];
  for (const { a, b } of lora.pairs.values()) {
    tensors.push({ ...a, name: prefix + a.name }, { ...b, name: prefix + b.name });
  }
  for (const m of lora.modulesToSave) {
    const name = m === "lm_head" ? "lm_head.weight" : "model.embed_tokens.weight";
    const p = model.params.get(name)!;
    tensors.push({ name: prefix + name, shape: p.shape, data: p.data });
  }
  tensors.sort((x, y) => (x.name < y.name ? -1 : 1));
  const config = {
    peft_type: "LORA",
    task_type: "CAUSAL_LM",
    base_model_name_or_path: options.baseModel ?? null,
    r: lora.r,
    lora_alpha: lora.alpha,
    lora_dropout: 0,
    target_modules: lora.targets,
    modules_to_save: lora.modulesToSave,
    fan_in_fan_out: false,
    bias: "none",
    inference_mode: true,
    init_lora_weights: true,
  };
  const files: FileSet = {
    "adapter_config.json": json(config),
    "adapter_model.safetensors": encodeSafetensors(tensors),
  };
  if (options.tokenizerModel) files["tokenizer.model"] = options.tokenizerModel;
  return files;
}

/** AdamW moments and step, to resume training exactly. */
export function optimizerStateFiles(optimizer: AdamW, extra: Record<string, unknown> = {}): FileSet {
  const tensors: NamedTensor[] = [];
  for (const [name, m] of optimizer.m) {
    tensors.push({ name: `m.${name}`, shape: [m.length], data: m });
    tensors.push({ name: `v.${name}`, shape: [m.length], data: optimizer.v.get(name)! });
  }
  return {
    "optimizer.safetensors": encodeSafetensors(tensors),
    "trainer_state.json": json({ step: optimizer.step, ...extra }),
  };
}

export function restoreOptimizer(optimizer: AdamW, files: { state: Uint8Array; moments: Uint8Array }): void {
  const state = JSON.parse(new TextDecoder().decode(files.state)) as { step: number };
  optimizer.step = state.step;
  for (const [name, t] of decodeSafetensors(files.moments, "optimizer.safetensors")) {
    (name.startsWith("m.") ? optimizer.m : optimizer.v).set(name.slice(2), t.data);
  }
}
