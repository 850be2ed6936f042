import { cllamaVitest } from "./src/vitest.ts";

export default cllamaVitest();
