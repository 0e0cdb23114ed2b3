// tripleo-ipsec: the operator's CLI. Parses arguments (one file per command
// in commands/), calls the library, and turns results into words and exit
// codes; every failure, of any command, goes to the one handler.
import yargs from 'yargs';
import { TripleoIpsecError, UsageError } from '../model/errors.js';
import { version } from '../../package.json';
import { handleError } from './handleError.js';
import type { Command } from './commands/command.js';
import { applyCommand } from './commands/apply.js';
import { generateCommand } from './commands/generate.js';
import { heatEnvCommand } from './commands/heatEnv.js';
import { installAgentCommand } from './commands/installAgent.js';
import { mtuCommand } from './commands/mtu.js';
import { pacemakerCommand } from './commands/pacemaker.js';
import { rotatePskCommand } from './commands/rotatePsk.js';
import { statusCommand } from './commands/status.js';
import { tidyCommand } from './commands/tidy.js';

const COMMANDS: Command[] = [generateCommand, heatEnvCommand, mtuCommand, applyCommand, pacemakerCommand, statusCommand, tidyCommand, rotatePskCommand, installAgentCommand];

/** Run the CLI on `argv` (without node and the script): the exit code. Commands only throw. */
export async function main(argv: string[]): Promise<number> {
  try {
    return await run(argv);
  } catch (e) {
    return handleError(e, { debug: wantsDebug(argv) });
  }
}

/** --debug, read before yargs does: a failure may come before (or from) yargs' parsing. */
function wantsDebug(argv: string[]): boolean {
  const end = argv.indexOf('--');
  return (end < 0 ? argv : argv.slice(0, end)).some((x) => x === '--debug' || x === '--debug=true');
}

/** yargs' own complaints (unknown option, missing argument) are usage errors; what commands throw passes through. */
function failure(msg: string | null | undefined, err: Error | undefined): Error {
  if (err instanceof TripleoIpsecError || (err && !msg)) return err;
  return new UsageError(msg ?? String(err), { cause: err });
}

async function run(argv: string[]): Promise<number> {
  let code = 0;
  let y = yargs(argv)
    .scriptName('tripleo-ipsec')
    .usage('$0 <command> [options]\n\nIPsec (libreswan) for the isolated networks of a TripleO overcloud.')
    .option('debug', { type: 'boolean', default: false, global: true, describe: 'on any error, also print its stack trace (and its causes)' });
  for (const c of COMMANDS) {
    y = y.command(c.command, c.describe, c.builder, async (a) => {
      code = await c.handler(a as Record<string, unknown>);
    });
  }
  await y
    .demandCommand(1, 'name a command')
    .strict()
    .help()
    .alias('h', 'help')
    .version(version)
    .wrap(Math.min(110, process.stdout.columns ?? 110))
    .fail((msg, err) => {
      throw failure(msg, err);
    })
    .parseAsync();
  return code;
}
