import { Box, Text } from "ink";

/** `Loading model.gguf [██████░░░░░░]  45%` while the weights are read. */
export function LoadProgress({
  label,
  done,
  total,
  width = 30,
}: {
  label: string;
  done: number;
  total: number;
  width?: number;
}) {
  const fraction = total > 0 ? Math.min(1, Math.max(0, done / total)) : 0;
  const filled = Math.round(fraction * width);
  return (
    <Box>
      <Text>Loading {label} </Text>
      <Text color="green">{"█".repeat(filled)}</Text>
      <Text color="gray">{"░".repeat(width - filled)}</Text>
      <Text> {String(Math.round(fraction * 100)).padStart(3)}%</Text>
    </Box>
  );
}
