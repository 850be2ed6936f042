import { cllamaVitest } from "../../tooling/src/vitest.ts";

export default cllamaVitest();
