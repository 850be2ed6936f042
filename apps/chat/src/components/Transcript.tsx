import { Box, Text } from "ink";
import stringWidth from "string-width";
import { wrapToWidth } from "../wrap";

const stoppedMark = " [stopped]";

/** One block of the transcript. "notice" is the chat's own output (help, stats, errors). */
export interface ChatMessage {
  role: "user" | "assistant" | "system" | "notice";
  text: string;
  /** The answer was stopped with Ctrl-C. */
  stopped?: boolean;
  /** Notices: red when something went wrong. */
  error?: boolean;
}

const labels: Record<"user" | "assistant" | "system", { name: string; color: string }> = {
  user: { name: "你", color: "cyan" },
  assistant: { name: "AI", color: "green" },
  system: { name: "system", color: "gray" },
};

/**
 * A message with its speaker's label and the text wrapped by display width (wrap.ts), so that
 * Chinese lines never overflow and every continuation line starts under the first one.
 */
export function MessageView({ message, columns }: { message: ChatMessage; columns: number }) {
  if (message.role === "notice") {
    return (
      <Box flexDirection="column">
        {wrapToWidth(message.text, Math.max(2, columns - 1)).map((line, i) => (
          // biome-ignore lint/suspicious/noArrayIndexKey: lines of an immutable text
          <Text key={i} color={message.error ? "red" : "gray"}>
            {line || " "}
          </Text>
        ))}
      </Box>
    );
  }
  const label = labels[message.role];
  const labelWidth = label.name === "你" ? 4 : label.name.length + 2; // "你" is two cells wide
  const textWidth = Math.max(2, columns - labelWidth - 1);
  const lines = wrapToWidth(message.text, textWidth);
  // " [stopped]" goes after the text, or on a line of its own when it would not fit.
  if (message.stopped && stringWidth(lines.at(-1) ?? "") + stoppedMark.length > textWidth) lines.push("");
  return (
    <Box flexDirection="row">
      <Box width={labelWidth} flexShrink={0}>
        <Text color={label.color} bold>
          {label.name}:
        </Text>
      </Box>
      <Box flexDirection="column">
        {lines.map((line, i) => (
          // biome-ignore lint/suspicious/noArrayIndexKey: lines of an immutable text
          <Text key={i}>
            {line || " "}
            {message.stopped && i === lines.length - 1 ? <Text color="yellow">{stoppedMark}</Text> : null}
          </Text>
        ))}
      </Box>
    </Box>
  );
}

/** The conversation so far, one block per message. */
export function Transcript({ messages, columns = 80 }: { messages: ChatMessage[]; columns?: number }) {
  return (
    <Box flexDirection="column">
      {messages.map((message, index) => (
        // Messages are append-only, so the index is a stable key.
        // biome-ignore lint/suspicious/noArrayIndexKey: append-only list
        <MessageView key={index} message={message} columns={columns} />
      ))}
    </Box>
  );
}
