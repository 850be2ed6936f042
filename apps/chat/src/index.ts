export { type ChatMessage, Transcript } from "./Transcript";
export { wrapToWidth } from "./wrap";
