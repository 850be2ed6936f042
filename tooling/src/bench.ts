/**
 * Benchmarks write their section of BENCHMARKS.md between markers, so each package's
 * `pnpm bench` updates its own figures and leaves the others alone.
 */
import { readFileSync, renameSync, writeFileSync } from "node:fs";
import { cpus, totalmem } from "node:os";
import { join } from "node:path";
import { repoRoot } from "./fixtures.ts";

export const benchmarksFile = join(repoRoot, "BENCHMARKS.md");

/** Replace (or append) the section `name` of a markdown document. Pure, for testing. */
export function replaceSection(doc: string, name: string, body: string): string {
  const begin = `<!-- bench:${name} -->`;
  const end = `<!-- /bench:${name} -->`;
  const block = `${begin}\n${body.trim()}\n${end}`;
  const start = doc.indexOf(begin);
  const stop = doc.indexOf(end);
  if (start >= 0 && stop > start) return doc.slice(0, start) + block + doc.slice(stop + end.length);
  return `${doc.trimEnd()}\n\n${block}\n`;
}

/** One line naming the machine a figure was measured on. */
export function machineLine(): string {
  const cpu = cpus();
  return `${cpu.length} x ${cpu[0]?.model ?? "unknown CPU"}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}`;
}

export function writeBenchSection(name: string, body: string, file = benchmarksFile): void {
  const doc = readFileSync(file, "utf8");
  const dated = `${body.trim()}\n\n_Measured ${new Date().toISOString().slice(0, 10)} on ${machineLine()}._`;
  writeFileSync(`${file}.partial`, replaceSection(doc, name, dated));
  renameSync(`${file}.partial`, file);
}

/** Markdown table from rows of cells. */
export function markdownTable(header: string[], rows: (string | number)[][]): string {
  const line = (cells: (string | number)[]) => `| ${cells.join(" | ")} |`;
  return [line(header), line(header.map(() => "---")), ...rows.map(line)].join("\n");
}
