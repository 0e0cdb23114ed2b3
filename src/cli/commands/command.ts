// One CLI command: its yargs declaration and a handler that returns the exit code.
import type { Argv } from 'yargs';

export interface Command {
  command: string;
  describe: string;
  builder: (y: Argv) => Argv<unknown>;
  /** The exit code (failures throw, to the one error handler). */
  handler: (argv: Record<string, unknown>) => number | Promise<number>;
}
