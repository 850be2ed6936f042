import { RuntimeError } from "../errors";

/**
 * Sampling options with llama.cpp's names and defaults (common/common.h `common_params_sampling`).
 * The chain is llama.cpp's default order: logit bias, penalties, top-k, typical-p, top-p, min-p,
 * temperature, then a seeded draw (`dist`). Temperature <= 0 is greedy.
 */
export interface SamplingOptions {
  /** Default 0.8. <= 0 picks the most likely token (greedy). */
  temperature?: number;
  /** Default 40; <= 0 disables. */
  topK?: number;
  /** Default 0.95; >= 1 disables. */
  topP?: number;
  /** Default 0.05; <= 0 disables. */
  minP?: number;
  /** Locally typical sampling, default 1 (disabled). */
  typicalP?: number;
  /** Default 1 (disabled). */
  repeatPenalty?: number;
  /** How many of the last tokens the penalties look at; default 64, 0 disables, -1 = the whole context. */
  repeatLastN?: number;
  /** Default 0. */
  frequencyPenalty?: number;
  /** Default 0. */
  presencePenalty?: number;
  /** Added to a token's logit before anything else; -Infinity bans the token. */
  logitBias?: Record<number, number> | Map<number, number>;
  /** Seed of the mt19937 used by the final draw; default: random. */
  seed?: number;
  /** Minimum number of candidates top-p / min-p / typical keep; default 0 (llama.cpp's). */
  minKeep?: number;
}

export type ResolvedSamplingOptions = Required<Omit<SamplingOptions, "logitBias">> & {
  logitBias: Map<number, number>;
};

export const llamaCppSamplingDefaults = {
  temperature: 0.8,
  topK: 40,
  topP: 0.95,
  minP: 0.05,
  typicalP: 1,
  repeatPenalty: 1,
  repeatLastN: 64,
  frequencyPenalty: 0,
  presencePenalty: 0,
  minKeep: 0,
} as const;

/** The generation defaults the Chinese-LLaMA-Alpaca scripts use (SPEC-NOTES §5). */
export const chineseAlpacaSamplingDefaults: SamplingOptions = {
  temperature: 0.2,
  topK: 40,
  topP: 0.9,
  repeatPenalty: 1.1,
  repeatLastN: 64,
};

function finiteNumber(name: string, value: unknown): number {
  if (typeof value !== "number" || Number.isNaN(value)) {
    throw new RuntimeError(
      "RUNTIME_BAD_OPTION",
      `sampling option ${name} must be a number, found ${String(value)}`,
    );
  }
  return value;
}

export function resolveSamplingOptions(
  options: SamplingOptions = {},
  contextSize = 0,
): ResolvedSamplingOptions {
  const merged = { ...llamaCppSamplingDefaults, ...stripUndefined(options) };
  const bias = new Map<number, number>();
  const source = options.logitBias;
  if (source) {
    const entries = source instanceof Map ? [...source.entries()] : Object.entries(source);
    for (const [key, value] of entries) bias.set(Number(key), finiteOrInfinite(`logitBias[${key}]`, value));
  }
  let repeatLastN = Math.trunc(finiteNumber("repeatLastN", merged.repeatLastN));
  if (repeatLastN === -1) repeatLastN = contextSize;
  if (repeatLastN < 0) {
    throw new RuntimeError("RUNTIME_BAD_OPTION", `repeatLastN must be >= -1, found ${repeatLastN}`);
  }
  const seed =
    options.seed === undefined || options.seed < 0 || options.seed === 0xffffffff
      ? Math.floor(Math.random() * 0xffffffff)
      : Math.trunc(options.seed) >>> 0;
  return {
    temperature: finiteNumber("temperature", merged.temperature),
    topK: Math.trunc(finiteNumber("topK", merged.topK)),
    topP: finiteNumber("topP", merged.topP),
    minP: finiteNumber("minP", merged.minP),
    typicalP: finiteNumber("typicalP", merged.typicalP),
    repeatPenalty: finiteNumber("repeatPenalty", merged.repeatPenalty),
    repeatLastN,
    frequencyPenalty: finiteNumber("frequencyPenalty", merged.frequencyPenalty),
    presencePenalty: finiteNumber("presencePenalty", merged.presencePenalty),
    minKeep: Math.max(0, Math.trunc(finiteNumber("minKeep", merged.minKeep))),
    seed,
    logitBias: bias,
  };
}

function finiteOrInfinite(name: string, value: unknown): number {
  return finiteNumber(name, value);
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
