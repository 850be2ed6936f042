#!/usr/bin/env node
// After the test run: every workspace package must have run at least one passing test, and the
// totals are printed as one closing line ("N passed, N failed, N skipped") for CI to read.
// Usage: node tooling/scripts/check-test-reports.mjs
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

const root = new URL("../..", import.meta.url).pathname;
const packageDirs = ["packages", "apps"]
  .flatMap((group) => readdirSync(join(root, group)).map((name) => join(group, name)))
  .filter((dir) => existsSync(join(root, dir, "package.json")))
  .concat(["tooling"]);

let passed = 0;
let failed = 0;
let skipped = 0;
const problems = [];
for (const dir of packageDirs) {
  const report = join(root, dir, "test-results.json");
  if (!existsSync(report)) {
    problems.push(`${dir}: no test report (its tests did not run)`);
    continue;
  }
  const r = JSON.parse(readFileSync(report, "utf8"));
  passed += r.numPassedTests;
  failed += r.numFailedTests;
  skipped += r.numPendingTests + (r.numTodoTests ?? 0);
  console.log(`${dir}: ${r.numPassedTests} passed, ${r.numFailedTests} failed, ${r.numPendingTests} skipped`);
  if (r.numPassedTests === 0) problems.push(`${dir}: ran no passing test`);
}
for (const p of problems) console.error(`check-test-reports: ${p}`);
console.log(`${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(problems.length > 0 || failed > 0 ? 1 : 0);
