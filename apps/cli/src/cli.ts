#!/usr/bin/env node
import { main } from "./index";

const code = await main(process.argv.slice(2));
process.exitCode = code;

// The command is over when main returns. Idle worker threads a library keeps (a kernel pool, a
// quantizer's workers) must not keep the process alive: once stdout and stderr have flushed,
// exit. (Unref'd: when nothing else holds the process, it ends by itself first.)
await Promise.all([process.stdout, process.stderr].map((s) => new Promise((done) => s.write("", done))));
setTimeout(() => process.exit(code), 50).unref();
