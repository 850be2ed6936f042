/** Deterministic benchmark texts built from the fixture vocabularies (no corpus download). */
import { parseModelProto } from "../src/index";

function xorshift(seed: number) {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 2 ** 32;
  };
}

export interface Words {
  english: string[];
  chinese: string[];
}

export function wordLists(llamaModel: Uint8Array, chineseSpModel: Uint8Array): Words {
  const english = parseModelProto(llamaModel)
    .pieces.map((p) => p.piece)
    .filter((p) => /^\u2581[a-zA-Z]{2,}$/.test(p))
    .map((p) => p.slice(1));
  const chinese = parseModelProto(chineseSpModel)
    .pieces.map((p) => p.piece.replace(/^\u2581/, ""))
    .filter((p) => /^[\u4e00-\u9fff]+$/.test(p));
  return { english, chinese };
}

const zhPunct = ["，", "。", "、", "！", "？", "：", "；", "“", "”"];
const enPunct = [",", ".", "!", "?", ":", ";"];

/**
 * Paragraphs of mixed Chinese and English (about half the bytes each), digits and punctuation,
 * until `bytes` UTF-8 bytes. Returned as lines (paragraphs) and joined with "\n".
 */
export function mixedText(words: Words, bytes: number, seed = 42): string[] {
  const rnd = xorshift(seed);
  const pick = <T>(xs: T[]) => xs[Math.floor(rnd() * xs.length)]!;
  const enc = new TextEncoder();
  const lines: string[] = [];
  let total = 0;
  while (total < bytes) {
    let line = "";
    const sentences = 2 + Math.floor(rnd() * 6);
    for (let s = 0; s < sentences; s++) {
      if (rnd() < 0.5) {
        const n = 4 + Math.floor(rnd() * 16);
        for (let i = 0; i < n; i++) {
          line += pick(words.chinese);
          if (rnd() < 0.1) line += pick(zhPunct);
          if (rnd() < 0.05) line += String(Math.floor(rnd() * 10000));
        }
        line += "。";
      } else {
        const n = 5 + Math.floor(rnd() * 15);
        const ws: string[] = [];
        for (let i = 0; i < n; i++) {
          let w = pick(words.english);
          if (i === 0) w = w[0]!.toUpperCase() + w.slice(1);
          if (rnd() < 0.08) w += pick(enPunct);
          if (rnd() < 0.04) w = String(Math.floor(rnd() * 100000));
          ws.push(w);
        }
        line += `${ws.join(" ")}. `;
      }
    }
    lines.push(line);
    total += enc.encode(line).length + 1;
  }
  return lines;
}

/** Text without a single space: Chinese and English words glued together. */
export function noSpaceText(words: Words, bytes: number, seed = 7): string {
  const rnd = xorshift(seed);
  const pick = <T>(xs: T[]) => xs[Math.floor(rnd() * xs.length)]!;
  const parts: string[] = [];
  let total = 0;
  while (total < bytes) {
    const w = rnd() < 0.5 ? pick(words.chinese) : pick(words.english);
    parts.push(w);
    total += /^[a-zA-Z]+$/.test(w) ? w.length : w.length * 3;
  }
  return parts.join("");
}
