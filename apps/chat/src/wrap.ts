import stringWidth from "string-width";

/** Closing punctuation that must not begin a line (the basic rule of Chinese line breaking). */
const noLineStart = new Set(Array.from("，。！？、；：）」』》】〉〕”’…—·,.!?;:)]}%"));

const isSpace = (char: string) => char === " " || char === "\t";

/**
 * Breaks text into lines no wider than `columns` terminal cells. Chinese characters take two
 * cells, so wrapping by string length would overflow the line and misalign the transcript;
 * wrapping by display width keeps wide characters lined up. A wide character never splits.
 *
 * Chinese may break between any two characters, except before closing punctuation (which then
 * takes the previous character along, so "，" never starts a line); a run of Latin letters
 * breaks at its last space when it has one, so English words stay whole. Spaces where a line
 * breaks stay at the end of the upper line.
 */
export function wrapToWidth(text: string, columns: number): string[] {
  if (columns < 2) throw new RangeError(`columns must be at least 2, got ${columns}`);
  const lines: string[] = [];
  for (const paragraph of text.split("\n")) {
    let line: string[] = [];
    let width = 0;
    for (const char of paragraph) {
      const w = stringWidth(char);
      if (width + w > columns && line.length > 0 && !isSpace(char)) {
        const carry = carryOver(line, char, columns);
        lines.push(line.slice(0, line.length - carry).join(""));
        line = line.slice(line.length - carry);
        width = stringWidth(line.join(""));
      }
      line.push(char);
      width += w;
    }
    lines.push(
      line.join("").replace(/[ \t]+$/, (spaces) => (stringWidth(line.join("")) > columns ? "" : spaces)),
    );
  }
  return lines;
}

/** How many characters at the end of `line` move down to the next line with `next`. */
function carryOver(line: string[], next: string, columns: number): number {
  if (noLineStart.has(next)) return line.length > 1 && !isSpace(line.at(-1)!) ? 1 : 0;
  if (stringWidth(next) !== 1) return 0;
  // A Latin word: move it down whole if it started after a space and is not longer than a line.
  let start = line.length;
  while (start > 0 && !isSpace(line[start - 1]!) && stringWidth(line[start - 1]!) === 1) start--;
  const wordLength = line.length - start;
  if (start === 0 || !isSpace(line[start - 1]!) || wordLength + 1 >= columns / 2) return 0;
  return wordLength;
}
