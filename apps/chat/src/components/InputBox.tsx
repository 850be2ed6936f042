import { Box, Text } from "ink";
import { type EditorState, editorLines } from "../input-editor";

/**
 * The prompt: `› ` then the text being typed, one row per line, with the cursor drawn as an
 * inverted cell. While an answer streams it stays editable but dimmed.
 */
export function InputBox({ editor, busy }: { editor: EditorState; busy: boolean }) {
  const { lines, row, column } = editorLines(editor);
  return (
    <Box flexDirection="column">
      {lines.map((line, i) => {
        const prefix = i === 0 ? "› " : "  ";
        const chars = Array.from(line);
        if (i !== row)
          return (
            // biome-ignore lint/suspicious/noArrayIndexKey: lines of the edited text
            <Text key={i} dimColor={busy}>
              <Text color="cyan">{prefix}</Text>
              {line}
            </Text>
          );
        return (
          // biome-ignore lint/suspicious/noArrayIndexKey: lines of the edited text
          <Text key={i} dimColor={busy}>
            <Text color="cyan">{prefix}</Text>
            {chars.slice(0, column).join("")}
            <Text inverse>{chars[column] ?? " "}</Text>
            {chars.slice(column + 1).join("")}
          </Text>
        );
      })}
      {editor.text === "" && !busy ? (
        <Text color="gray">Enter sends · Alt-Enter new line · /help · Ctrl-D quits</Text>
      ) : null}
    </Box>
  );
}
