import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
/** Version of @cllama/cli from its own package.json (dist/ sits beside it). */
export const version: string = (require("../package.json") as { version: string }).version;
