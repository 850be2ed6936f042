/**
 * The demo's data, from Debian's fortunes-zh (GPL-3.0+): the poems of `tang300` (唐诗三百首) and
 * `song100` (宋词/宋诗一百首) parsed into title / author / lines, plus the sayings of `chinese`,
 * and the instruction set built from the poems.
 */
import { existsSync, readFileSync } from "node:fs";

export const FORTUNES = "/usr/share/games/fortunes";

function entries(file) {
  const text = readFileSync(`${FORTUNES}/${file}`, "utf8").replace(/\x1b\[[0-9;]*m/g, "");
  return text
    .split(/\n%\n/)
    .map((e) => e.replace(/^%\n/, "").trimEnd())
    .filter((e) => e.trim().length > 0);
}

export function haveCorpus() {
  return ["tang300", "song100", "chinese"].every((f) => existsSync(`${FORTUNES}/${f}`));
}

/** { title, author, lines[] } for each poem of tang300 and song100. */
export function poems() {
  const out = [];
  for (const file of ["tang300", "song100"]) {
    for (const e of entries(file)) {
      const rows = e
        .split("\n")
        .map((l) => l.trim())
        .filter(Boolean);
      const t = /《(.+?)》/.exec(rows[0] ?? "");
      const a = /作者[：:]\s*([^（(\s]+)/.exec(rows[1] ?? "");
      if (!t || !a) continue;
      const lines = rows.slice(2).filter((l) => /[，。？！；]$/.test(l));
      if (lines.length === 0) continue;
      out.push({
        title: t[1].replace(/・.*$/, "").trim(),
        fullTitle: t[1],
        author: a[1],
        lines,
        source: file,
      });
    }
  }
  return out;
}

/** The sayings of `chinese` as plain text entries. */
export function sayings() {
  return entries("chinese").map((e) => e.replace(/[ \t]+\n/g, "\n"));
}

/** 五言绝句 / 七言律诗 ... from the number and length of the verses, else undefined. */
export function formOf(poem) {
  const verses = poem.lines.flatMap((l) => l.split(/[，。？！；：]/).filter(Boolean));
  const lens = new Set(verses.map((v) => [...v].length));
  if (lens.size !== 1) return undefined;
  const n = [...lens][0];
  const size = n === 5 ? "五言" : n === 7 ? "七言" : undefined;
  if (!size) return undefined;
  if (verses.length === 4) return `${size}绝句`;
  if (verses.length === 8) return `${size}律诗`;
  return `${size}古诗`;
}

export function poemText(poem) {
  return `${poem.lines.join("\n")}`;
}

/** Seeded choice. */
function picker(seed) {
  let s = seed >>> 0 || 1;
  return (arr) => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return arr[(s >>> 8) % arr.length];
  };
}

/** Instruction / answer pairs: write a poem in a form, name the author or title, continue a line. */
export function instructions(poemList, seed = 1) {
  const pick = picker(seed);
  const out = [];
  for (const p of poemList) {
    const form = formOf(p);
    const text = poemText(p);
    if (form) {
      out.push({
        kind: "form",
        instruction: pick([
          `请以《${p.title}》为题，写一首${form}。`,
          `写一首${form}，题目是《${p.title}》。`,
        ]),
        answer: text,
      });
      out.push({ kind: "form", instruction: pick([`写一首${form}。`, `请写一首${form}。`]), answer: text });
    } else {
      out.push({ kind: "form", instruction: `请以《${p.title}》为题写一首诗。`, answer: text });
    }
    out.push({
      kind: "author",
      instruction: pick([`《${p.title}》的作者是谁？`, `谁写了《${p.title}》？`]),
      answer: `《${p.title}》的作者是${p.author}。`,
    });
    out.push({
      kind: "title",
      instruction: `下面这首诗的题目和作者是什么？\n${p.lines[0]}`,
      answer: `这是${p.author}的《${p.title}》。`,
    });
    const first = p.lines[0];
    const m = /^(.+?[，；])(.+)$/.exec(first);
    if (m) {
      out.push({
        kind: "continue",
        instruction: pick([`「${m[1]}」的下一句是什么？`, `请接着写下一句：${m[1]}`]),
        answer: m[2],
      });
    }
    if (p.lines.length > 1) {
      out.push({
        kind: "continue",
        instruction: `请续写这首诗：\n${p.lines[0]}`,
        answer: p.lines.slice(1).join("\n"),
      });
    }
  }
  return out;
}

/** A stable split: about 1 in 20 poems is held out from both stages. */
export function isHeldOut(poem) {
  let h = 2166136261;
  for (const ch of poem.title + poem.author) h = Math.imul(h ^ ch.codePointAt(0), 16777619) >>> 0;
  return h % 20 === 0;
}
