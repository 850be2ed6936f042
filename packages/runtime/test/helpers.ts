import { GgmlType, type SynthLlamaOptions, synthLlama, writeGgufToBytes } from "@cllama/gguf-format";
import { quantizeRows } from "@cllama/quantize";

/** A random-weight LLaMA GGUF in memory (gguf-format's synthLlama, quantized with @cllama/quantize). */
export async function synthModelBytes(
  options: SynthLlamaOptions = {},
  extraMetadata: Record<string, unknown> = {},
  tiedEmbeddings = false,
): Promise<Uint8Array> {
  const synth = synthLlama({ type: GgmlType.F32, quantizeRows, ...options });
  Object.assign(synth.metadata, extraMetadata);
  if (tiedEmbeddings) synth.tensors = synth.tensors.filter((t) => t.name !== "output.weight");
  return writeGgufToBytes(synth);
}
