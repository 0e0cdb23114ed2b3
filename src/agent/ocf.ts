// OCF return codes, exit reasons and logging, as Pacemaker expects them.
// No log files of our own: Pacemaker records what agents write to stderr.
// Output goes through fs.writeSync: creating process.stdout/stderr streams
// costs more than the rest of a monitor's own JavaScript.
import { writeSync } from 'node:fs';

export function out(text: string) {
  writeSync(1, text);
}

export function err(text: string) {
  writeSync(2, text);
}

export const OCF = {
  SUCCESS: 0,
  ERR_GENERIC: 1,
  ERR_ARGS: 2,
  ERR_UNIMPLEMENTED: 3,
  ERR_PERM: 4,
  ERR_INSTALLED: 5,
  ERR_CONFIGURED: 6,
  NOT_RUNNING: 7,
} as const;

export type OcfCode = (typeof OCF)[keyof typeof OCF];

/** Thrown to end an action with a code and, for failures, the reason shown in `pcs status`. */
export class OcfExit extends Error {
  constructor(
    readonly code: OcfCode,
    readonly reason?: string,
  ) {
    super(reason ?? `exit ${code}`);
  }
}

const env = process.env;
const instance = env.OCF_RESOURCE_INSTANCE || 'ipsec';
const debugOn = /^(1|yes|true)$/i.test(env.HA_debug ?? '') || /^(1|yes|true)$/i.test(env.OCF_TRACE_RA ?? '');

function write(level: string, msg: string) {
  err(`tripleo-ipsec(${instance})[${process.pid}]: ${level}: ${msg}\n`);
}

export const log = {
  info: (msg: string) => write('INFO', msg),
  warn: (msg: string) => write('WARNING', msg),
  error: (msg: string) => write('ERROR', msg),
  debug: (msg: string) => {
    if (debugOn) write('DEBUG', msg);
  },
  tracing: debugOn,
};

/** One line Pacemaker keeps as the failure's reason (it shows 128 characters). */
export function exitReason(reason: string) {
  const prefix = env.OCF_EXIT_REASON_PREFIX || 'ocf-exit-reason:';
  err(`${prefix}${reason.replace(/[\r\n]+/g, ' ')}\n`);
}
