// What "up" means, one rule for both status pipelines (status --plan and
// status --inventory): a conn is up when it holds an established IKE SA.
// Child SAs are counted beside it and judged by the caller: the --plan view
// judges IKE SAs alone (it also serves clusters without ESP), --inventory
// wants a Child SA too. Pure: pluto's state list in, counts per conn out.
import { statesByConn, type StateStatus } from '../libreswan/whackStatus.js';

/** One conn's states, and its IKE SAs established and still negotiating, its Child SAs established. */
export interface ConnSas {
  states: readonly StateStatus[];
  ike: number;
  negotiating: number;
  child: number;
}

/** Each conn's SAs, grouped in one pass (a VIP holder has hundreds of conns). */
export function sasByConn(states: readonly StateStatus[]): Map<string, ConnSas> {
  const out = new Map<string, ConnSas>();
  for (const [conn, list] of statesByConn(states)) {
    out.set(conn, {
      states: list,
      ike: list.filter((s) => s.kind === 'ike' && s.established).length,
      negotiating: list.filter((s) => s.kind === 'ike' && !s.established).length,
      child: list.filter((s) => s.kind === 'child' && s.established).length,
    });
  }
  return out;
}

/** A conn pluto holds no state for. */
export const NO_SAS: Readonly<ConnSas> = { states: [], ike: 0, negotiating: 0, child: 0 };

/** Whether a conn is up: it holds an established IKE SA. */
export function ikeUp(sas: ConnSas | undefined): boolean {
  return (sas?.ike ?? 0) > 0;
}
