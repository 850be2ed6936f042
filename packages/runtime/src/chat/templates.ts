import { Template } from "@huggingface/jinja";
import { RuntimeError } from "../errors";

export interface ChatMessage {
  role: "system" | "user" | "assistant";
  content: string;
}

/**
 * A chat format: renders a conversation to prompt text (special tokens written as text, e.g.
 * `<s>`, and parsed by the tokenizer) ending where the assistant's reply begins.
 */
export interface ChatTemplate {
  readonly name: string;
  /** Whether the rendered text already starts with the BOS token text (no BOS to add). */
  readonly rendersBos: boolean;
  /** Strings that end a reply besides EOS (e.g. the next turn's header). */
  readonly stopStrings: readonly string[];
  /** The default system prompt, if the format has one. */
  readonly defaultSystem?: string;
  render(messages: readonly ChatMessage[], addGenerationPrompt: boolean): string;
}

export type BuiltinTemplateName = "alpaca" | "llama2" | "chatml";

export const ALPACA_SYSTEM =
  "Below is an instruction that describes a task. Write a response that appropriately completes the request.";
export const ALPACA2_SYSTEM = "You are a helpful assistant. 你是一个乐于助人的助手。";

/**
 * Chinese-Alpaca (v1): BOS + "{system}\n\n### Instruction:\n\n{q}\n\n### Response:\n\n".
 * Later turns continue the same document ("{answer}\n\n### Instruction:\n\n...").
 */
export const alpacaTemplate: ChatTemplate = {
  name: "alpaca",
  rendersBos: false,
  stopStrings: ["### Instruction:"],
  defaultSystem: ALPACA_SYSTEM,
  render(messages) {
    const system = messages.find((m) => m.role === "system")?.content ?? ALPACA_SYSTEM;
    let out = `${system}\n\n`;
    for (const m of messages) {
      if (m.role === "user") out += `### Instruction:\n\n${m.content}\n\n### Response:\n\n`;
      else if (m.role === "assistant") out += `${m.content}\n\n`;
    }
    return out;
  },
};

/**
 * Chinese-Alpaca-2 / Llama-2 chat: "<s>[INST] <<SYS>>\n{system}\n<</SYS>>\n\n{q} [/INST]"; each
 * finished exchange is "<s>[INST] q [/INST] a</s>" (the system block only in the first).
 */
export const llama2Template: ChatTemplate = {
  name: "llama2",
  rendersBos: true,
  stopStrings: ["[INST]"],
  defaultSystem: ALPACA2_SYSTEM,
  render(messages) {
    const system = messages.find((m) => m.role === "system")?.content ?? ALPACA2_SYSTEM;
    let out = "";
    let first = true;
    for (const m of messages) {
      if (m.role === "user") {
        const body = first && system ? `<<SYS>>\n${system}\n<</SYS>>\n\n${m.content}` : m.content;
        out += `<s>[INST] ${body} [/INST]`;
        first = false;
      } else if (m.role === "assistant") {
        out += ` ${m.content}</s>`;
      }
    }
    return out;
  },
};

/** ChatML: "<|im_start|>role\ncontent<|im_end|>\n", then "<|im_start|>assistant\n". */
export const chatmlTemplate: ChatTemplate = {
  name: "chatml",
  rendersBos: false,
  stopStrings: ["<|im_end|>", "<|im_start|>"],
  render(messages, addGenerationPrompt) {
    let out = "";
    for (const m of messages) out += `<|im_start|>${m.role}\n${m.content}<|im_end|>\n`;
    if (addGenerationPrompt) out += "<|im_start|>assistant\n";
    return out;
  },
};

export interface JinjaTemplateOptions {
  bosToken?: string;
  eosToken?: string;
  name?: string;
}

/** A GGUF's own `tokenizer.chat_template`, rendered with @huggingface/jinja. */
export function jinjaTemplate(source: string, options: JinjaTemplateOptions = {}): ChatTemplate {
  let template: Template;
  try {
    template = new Template(source);
  } catch (error) {
    throw new RuntimeError(
      "RUNTIME_BAD_TEMPLATE",
      `tokenizer.chat_template does not parse: ${(error as Error).message}`,
      "pass --template alpaca|llama2|chatml to use a built-in format instead",
    );
  }
  const bos = options.bosToken ?? "<s>";
  const eos = options.eosToken ?? "</s>";
  return {
    name: options.name ?? "gguf",
    rendersBos: source.includes("bos_token"),
    stopStrings: source.includes("<|im_end|>") ? ["<|im_end|>"] : [],
    render(messages, addGenerationPrompt) {
      try {
        return template.render({
          messages,
          add_generation_prompt: addGenerationPrompt,
          bos_token: bos,
          eos_token: eos,
        });
      } catch (error) {
        throw new RuntimeError(
          "RUNTIME_BAD_TEMPLATE",
          `tokenizer.chat_template failed to render: ${(error as Error).message}`,
          "pass --template alpaca|llama2|chatml to use a built-in format instead",
        );
      }
    },
  };
}

export const builtinTemplates: Record<BuiltinTemplateName, ChatTemplate> = {
  alpaca: alpacaTemplate,
  llama2: llama2Template,
  chatml: chatmlTemplate,
};

/**
 * The template for a model: "auto" takes the GGUF's `tokenizer.chat_template` when present
 * (it takes precedence, SPEC-NOTES §5), else guesses from the vocabulary: a 55,296-piece vocabulary
 * is Chinese-LLaMA-2 ("llama2"), anything else Chinese-Alpaca v1 ("alpaca").
 */
export function resolveTemplate(
  choice: BuiltinTemplateName | "auto" | ChatTemplate | undefined,
  model: { chatTemplate?: string; vocabSize: number; bosToken?: string; eosToken?: string },
): ChatTemplate {
  if (choice && typeof choice === "object") return choice;
  if (choice === undefined || choice === "auto") {
    if (model.chatTemplate) {
      return jinjaTemplate(model.chatTemplate, { bosToken: model.bosToken, eosToken: model.eosToken });
    }
    return model.vocabSize === 55296 ? llama2Template : alpacaTemplate;
  }
  const builtin = builtinTemplates[choice];
  if (!builtin) {
    throw new RuntimeError(
      "RUNTIME_BAD_TEMPLATE",
      `unknown chat template "${String(choice)}"`,
      "use auto, alpaca, llama2 or chatml",
    );
  }
  return builtin;
}
