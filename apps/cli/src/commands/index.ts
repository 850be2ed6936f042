import type { Command } from "commander";

/**
 * Every command of the contract in CLI.md registers here, one module per command, each thin
 * over its package. Keep this list in the order of CLI.md.
 */
export function registerCommands(_program: Command): void {}
