export { TokenizerError, type TokenizerErrorCode } from "./errors";
export {
  type GgufTypedValue,
  type GgufValueTypeName,
  vocabularyFromGguf,
  vocabularyToGguf,
} from "./gguf-metadata";
export { type MergeVocabOptions, type MergeVocabResult, mergeVocab } from "./merge";
export {
  decodeNormalizerSpec,
  decodeTrainerSpec,
  type ModelPiece,
  type ModelProto,
  ModelType,
  type NormalizerSpec,
  PieceType,
  parseModelProto,
  serializeModelProto,
  type TrainerSpec,
} from "./model-proto";
export type { RawField } from "./protobuf";
export type { StreamDecoder } from "./stream-decoder";
export { type EncodeOptions, SentencePieceTokenizer, Tokenizer } from "./tokenizer";
export { type TrainBpeOptions, type TrainBpeResult, trainBpe } from "./trainer/bpe-trainer";
export type { Vocabulary } from "./vocabulary";
