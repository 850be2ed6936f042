/**
 * A PEFT LoRA adapter folder: adapter_config.json + adapter_model.bin | .safetensors. Keys are
 * normalised to the base tensor they change, whichever PEFT version wrote them
 * (`...q_proj.lora_A.weight`, `...q_proj.lora_A.default.weight`; modules_to_save as
 * `...embed_tokens.weight` or `...embed_tokens.modules_to_save.default.weight`).
 */
import { type Directory, readJson } from "./directory";
import { fail } from "./errors";
import { readSafetensors } from "./safetensors";
import type { ByteSource } from "./source";
import { shapeText, type TensorRef } from "./tensor";
import { readTorchCheckpoint } from "./torch";
import { readTokenizerInfo, type TokenizerInfo } from "./vocab";

export interface LoraPair {
  /** [r, in] (or [r, out] with fan_in_fan_out) */
  a: TensorRef;
  /** [out, r] (or [in, r] with fan_in_fan_out) */
  b: TensorRef;
}

export interface LoraAdapter {
  path: string;
  r: number;
  alpha: number;
  /** lora_alpha / r (or / sqrt(r) with use_rslora) */
  scaling: number;
  fanInFanOut: boolean;
  targetModules: string[];
  modulesToSave: string[];
  /** Keyed by the Hugging Face base tensor name ("model.layers.0.self_attn.q_proj.weight"). */
  pairs: Map<string, LoraPair>;
  /** Full tensors that replace the base ones (modules_to_save). */
  replacements: Map<string, TensorRef>;
  tokenizer?: TokenizerInfo;
  close(): Promise<void>;
}

export async function openLoraAdapter(dir: Directory): Promise<LoraAdapter> {
  const names = new Set(await dir.list());
  if (!names.has("adapter_config.json")) {
    fail(
      "LORA_BAD_ADAPTER",
      `${dir.path}: adapter_config.json is missing; this is not a PEFT LoRA folder`,
      names.has("config.json")
        ? "this looks like a full model: pass it as --base"
        : "point --lora at the folder holding adapter_config.json",
    );
  }
  const config = await readJson(dir, "adapter_config.json");
  const r = config.r;
  const alpha = config.lora_alpha;
  if (typeof r !== "number" || r <= 0 || typeof alpha !== "number") {
    fail(
      "LORA_BAD_ADAPTER",
      `${dir.path}/adapter_config.json: "r" and "lora_alpha" must be numbers (found ${r}, ${alpha})`,
    );
  }
  if (config.peft_type !== undefined && config.peft_type !== "LORA") {
    fail("LORA_BAD_ADAPTER", `${dir.path}: peft_type ${String(config.peft_type)} is not LORA`);
  }
  const weightsFile = names.has("adapter_model.safetensors")
    ? "adapter_model.safetensors"
    : names.has("adapter_model.bin")
      ? "adapter_model.bin"
      : fail(
          "LORA_BAD_ADAPTER",
          `${dir.path}: neither adapter_model.safetensors nor adapter_model.bin is present`,
        );
  const source: ByteSource = await dir.open(weightsFile);
  try {
    const tensors = weightsFile.endsWith(".safetensors")
      ? (await readSafetensors(source)).tensors
      : await readTorchCheckpoint(source);
    const { pairs, replacements } = groupKeys(tensors, `${dir.path}/${weightsFile}`);
    const fanInFanOut = config.fan_in_fan_out === true;
    for (const [name, { a, b }] of pairs) checkPairShapes(name, a, b, r);
    return {
      path: dir.path,
      r,
      alpha,
      scaling: config.use_rslora === true ? alpha / Math.sqrt(r) : alpha / r,
      fanInFanOut,
      targetModules: Array.isArray(config.target_modules) ? (config.target_modules as string[]) : [],
      modulesToSave: Array.isArray(config.modules_to_save) ? (config.modules_to_save as string[]) : [],
      pairs,
      replacements,
      tokenizer: await readTokenizerInfo(dir),
      close: async () => source.close?.(),
    };
  } catch (error) {
    await source.close?.();
    throw error;
  }
}

function groupKeys(tensors: TensorRef[], file: string) {
  const as = new Map<string, TensorRef>();
  const bs = new Map<string, TensorRef>();
  const replacements = new Map<string, TensorRef>();
  for (const t of tensors) {
    let key = t.name.replace(/^base_model\.model\./, "");
    const lora = /^(.*)\.lora_(A|B)(?:\.[^.]+)?\.weight$/.exec(key);
    if (lora) {
      (lora[2] === "A" ? as : bs).set(`${lora[1]}.weight`, t);
      continue;
    }
    if (/\.original_module\./.test(key) || /\.lora_(embedding_)?[AB]\b/.test(key) || /\.bias$/.test(key)) {
      if (/\.bias$/.test(key) && !/\.original_module\./.test(key)) {
        fail("LORA_BAD_ADAPTER", `${file}: ${t.name}: LoRA biases are not supported by LLaMA merges`);
      }
      continue;
    }
    key = key.replace(/\.modules_to_save\.[^.]+\.weight$/, ".weight");
    replacements.set(key, t);
  }
  const pairs = new Map<string, LoraPair>();
  for (const [name, a] of as) {
    const b = bs.get(name);
    if (!b)
      fail(
        "LORA_MISSING_TENSOR",
        `${file}: ${a.name} has no matching lora_B`,
        "the adapter file is incomplete: download it again",
      );
    pairs.set(name, { a, b });
  }
  for (const [name, b] of bs) {
    if (!as.has(name))
      fail(
        "LORA_MISSING_TENSOR",
        `${file}: ${b.name} has no matching lora_A`,
        "the adapter file is incomplete: download it again",
      );
  }
  return { pairs, replacements };
}

function checkPairShapes(name: string, a: TensorRef, b: TensorRef, r: number) {
  if (a.shape.length !== 2 || b.shape.length !== 2 || a.shape[0] !== r || b.shape[1] !== r) {
    fail(
      "LORA_SHAPE_MISMATCH",
      `${a.file}: ${name}: lora_A ${shapeText(a.shape)} and lora_B ${shapeText(b.shape)} do not fit rank r=${r}`,
      "adapter_config.json does not belong to these weights",
    );
  }
}
