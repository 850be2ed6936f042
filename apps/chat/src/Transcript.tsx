import { Box, Text } from "ink";

export interface ChatMessage {
  role: "user" | "assistant" | "system";
  text: string;
}

const labels: Record<ChatMessage["role"], { name: string; color: string }> = {
  user: { name: "你", color: "cyan" },
  assistant: { name: "AI", color: "green" },
  system: { name: "system", color: "gray" },
};

/** The conversation so far, one block per message, the speaker's name in its colour. */
export function Transcript({ messages }: { messages: ChatMessage[] }) {
  return (
    <Box flexDirection="column">
      {messages.map((message, index) => (
        // Messages are append-only, so the index is a stable key.
        // biome-ignore lint/suspicious/noArrayIndexKey: append-only list
        <Box key={index} flexDirection="row" gap={1}>
          <Text color={labels[message.role].color} bold>
            {labels[message.role].name}:
          </Text>
          <Text>{message.text}</Text>
        </Box>
      ))}
    </Box>
  );
}
