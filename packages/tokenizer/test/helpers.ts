import { readFileSync } from "node:fs";
import { fixtureNames, fixturePath } from "@cllama/tooling/fixtures";

export const llamaPath = fixturePath(fixtureNames.llamaModel);
export const chineseSpPath = fixturePath(fixtureNames.chineseSpModel);
export const chineseLlama2Path = fixturePath(fixtureNames.chineseLlama2Model);
export const haveModels = !!(llamaPath && chineseSpPath && chineseLlama2Path);

export function readFixture(path: string | undefined): Uint8Array {
  if (!path) throw new Error("fixture missing");
  return new Uint8Array(readFileSync(path));
}
