import { Box, Text } from "ink";

export interface HeaderProps {
  model: string;
  quantization: string;
  contextUsed: number;
  contextSize: number;
  /** Speed of the last answer; undefined before the first. */
  tokensPerSecond?: number;
  busy?: boolean;
}

/** `chinese-alpaca-7b · Q4_0 · ctx 312/2048 (15%) · 14.2 tok/s`, one line above the prompt. */
export function Header({
  model,
  quantization,
  contextUsed,
  contextSize,
  tokensPerSecond,
  busy,
}: HeaderProps) {
  const percent = contextSize > 0 ? Math.round((contextUsed / contextSize) * 100) : 0;
  const contextColor = percent >= 90 ? "red" : percent >= 70 ? "yellow" : "gray";
  return (
    <Box>
      <Text bold color="magenta">
        {model}
      </Text>
      <Text color="gray"> · {quantization} · </Text>
      <Text color={contextColor}>
        ctx {contextUsed}/{contextSize} ({percent}%)
      </Text>
      <Text color="gray">
        {" "}
        · {tokensPerSecond === undefined ? "– tok/s" : `${tokensPerSecond.toFixed(1)} tok/s`}
      </Text>
      {busy ? <Text color="yellow"> · answering (Ctrl-C stops)</Text> : null}
    </Box>
  );
}
