export { ChatApp, type ChatAppProps } from "./App";
export { type ChatCommand, helpText, type ParsedInput, parseInput } from "./commands";
export { Header, type HeaderProps } from "./components/Header";
export { InputBox } from "./components/InputBox";
export { LoadProgress } from "./components/LoadProgress";
export { type ChatMessage, MessageView, Transcript } from "./components/Transcript";
export {
  ConversationFileError,
  conversationFromJson,
  conversationToJson,
  loadConversation,
  type SavedConversation,
  saveConversation,
} from "./conversation";
export type {
  ChatModel,
  ChatSampling,
  ChatSession,
  ChatTurn,
  LoadModel,
  LoadProgress as LoadProgressCallback,
  SendOptions,
  SendResult,
  SessionOptions,
  StopReason,
} from "./engine";
export {
  createFakeEngine,
  defaultFakeReply,
  type FakeEngineOptions,
  FakeModel,
  FakeSession,
} from "./fake-engine";
export { type EditorKey, type EditorState, editorInput, editorLines, emptyEditor } from "./input-editor";
export { ChatTerminalError, type RunChatOptions, runChat } from "./run";
export {
  loadRuntimeModel,
  quantizationOf,
  RuntimeChatModel,
  type RuntimeLoadOptions,
} from "./runtime-engine";
export { wrapToWidth } from "./wrap";
