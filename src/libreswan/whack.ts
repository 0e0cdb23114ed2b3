// Facts about libreswan 4.10's programs that both pluto clients rely on: the
// agent's lean one (src/agent/plutoctl.ts) and the CLI's (plutoClient.ts).
// Measured in docs/FACTS.md.
import { existsSync } from 'node:fs';

const LIBEXEC = '/usr/libexec/ipsec';
export const IPSEC = '/usr/sbin/ipsec';
export const WHACK = `${LIBEXEC}/whack`;
export const ADDCONN = `${LIBEXEC}/addconn`;
export const PLUTO = `${LIBEXEC}/pluto`;
export const DEFAULT_CTLSOCKET = '/run/pluto/pluto.ctl';

/** whack's exit codes and their one meaning: 21 is "no such conn" (an answer), 33 "no pluto on the socket". */
export const WHACK_RC = { OK: 0, NO_CONNECTION: 21, NOT_RUNNING: 33 } as const;

/** Whether libreswan is on this machine: the agent needs whack and addconn; without them generate judges algorithms by its built-in table. */
export function libreswanInstalled(): boolean {
  return existsSync(WHACK) && existsSync(ADDCONN);
}
