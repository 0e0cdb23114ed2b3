// Telling a running pluto about changed conns and secrets (off the agent's
// hot path: execa, the `ipsec` front end, generous timeouts).
import { execa } from 'execa';
import { existsSync } from 'node:fs';
import { EnvironmentError } from '../model/errors.js';

export interface PlutoTarget {
  ctlsocket: string;
}

export interface PlutoAction {
  what: string;
  argv: string[];
}

export function plutoRunning(t: PlutoTarget): boolean {
  return existsSync(t.ctlsocket);
}

export async function run(action: PlutoAction): Promise<void> {
  const r = await execa(action.argv[0], action.argv.slice(1), { reject: false, timeout: 60_000 });
  if (r.exitCode !== 0) {
    throw new EnvironmentError(`${action.what} failed (exit ${r.exitCode}): ${(r.stderr || r.stdout).trim().split('\n')[0]}`);
  }
}

const auto = (t: PlutoTarget, args: string[]) => ['ipsec', 'auto', '--ctlsocket', t.ctlsocket, ...args];
const whack = (t: PlutoTarget, args: string[]) => ['ipsec', 'whack', '--ctlsocket', t.ctlsocket, ...args];

export const plutoActions = {
  add: (t: PlutoTarget, file: string, conn: string): PlutoAction => ({ what: `add ${conn}`, argv: auto(t, ['--config', file, '--add', conn]) }),
  replace: (t: PlutoTarget, file: string, conn: string): PlutoAction => ({ what: `replace ${conn}`, argv: auto(t, ['--config', file, '--replace', conn]) }),
  up: (t: PlutoTarget, conn: string): PlutoAction => ({ what: `up ${conn}`, argv: whack(t, ['--name', conn, '--initiate', '--asynchronous']) }),
  route: (t: PlutoTarget, conn: string): PlutoAction => ({ what: `route ${conn}`, argv: whack(t, ['--name', conn, '--route']) }),
  delete: (t: PlutoTarget, conn: string): PlutoAction => ({ what: `delete ${conn}`, argv: whack(t, ['--name', conn, '--delete']) }),
  rereadSecrets: (t: PlutoTarget): PlutoAction => ({ what: 'reread secrets', argv: whack(t, ['--rereadsecrets']) }),
  listen: (t: PlutoTarget): PlutoAction => ({ what: 'listen', argv: whack(t, ['--listen']) }),
};

/** Whether pluto has conn `name` loaded (whack exits 21 for an unknown conn). */
export async function connLoaded(t: PlutoTarget, name: string): Promise<boolean> {
  const r = await execa('ipsec', ['whack', '--ctlsocket', t.ctlsocket, '--name', name, '--debug', 'none'], { reject: false, timeout: 30_000 });
  return r.exitCode === 0;
}
