import stringWidth from "string-width";

/**
 * Breaks text into lines no wider than `columns` terminal cells. Chinese characters take two
 * cells, so wrapping by string length would overflow the line and misalign the transcript;
 * wrapping by display width keeps wide characters lined up. A wide character never splits.
 */
export function wrapToWidth(text: string, columns: number): string[] {
  if (columns < 2) throw new RangeError(`columns must be at least 2, got ${columns}`);
  const lines: string[] = [];
  for (const paragraph of text.split("\n")) {
    let line = "";
    let width = 0;
    for (const char of paragraph) {
      const w = stringWidth(char);
      if (width + w > columns) {
        lines.push(line);
        line = "";
        width = 0;
      }
      line += char;
      width += w;
    }
    lines.push(line);
  }
  return lines;
}
