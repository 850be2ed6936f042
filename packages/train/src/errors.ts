/** Every failure this package reports. */
export type TrainErrorCode =
  | "TRAIN_BAD_CONFIG"
  | "TRAIN_BAD_SHAPE"
  | "TRAIN_BAD_BATCH"
  | "TRAIN_BAD_CHECKPOINT"
  | "TRAIN_MISSING_TENSOR"
  | "TRAIN_NOT_FINITE";

export class TrainError extends Error {
  override name = "TrainError";
  constructor(
    readonly code: TrainErrorCode,
    message: string,
    readonly hint?: string,
  ) {
    super(message);
  }
}
