// Parsing `ipsec status` / `ipsec whack --status` (libreswan 4.10) into the
// facts operators check: which conns are loaded and oriented, which states
// are established, and the IKE/IPsec SA counters. Truncated or foreign input
// is an error, never a silently wrong answer.
import { EnvironmentError } from '../model/errors.js';

export interface SaCounts {
  total: number;
  halfOpen?: number;
  open?: number;
  authenticated: number;
  anonymous: number;
}

export interface ConnStatus {
  name: string;
  oriented: boolean;
  /** Number of template instances ("name"[N]) seen. */
  instances: number;
  /**
   * pluto's routing of the conn itself (not its instances): "unrouted",
   * "prospective erouted" (its trap policy is in), "erouted" (a Child SA
   * carries it), "keyed, unrouted", ...; undefined when not printed.
   */
  routing?: string;
}

export interface StateStatus {
  serial: number;
  conn: string;
  instance?: number;
  /** Peer address for instances of %any conns. */
  peer?: string;
  state: string;
  kind: 'ike' | 'child' | 'other';
  established: boolean;
  /** pluto marks the conn's newest IKE SA (and newest Child SA) "newest": an established one without it was superseded. */
  newest?: boolean;
  /** A Child SA's IKE SA ("IKE SA #N" in pluto 4.10, "isakmp#N" before). */
  parent?: number;
  /** Seconds until pluto replaces it ("REPLACE in Ns"): its lifetime less its age. */
  replaceInS?: number;
  /** Seconds until pluto drops a half-open one ("DISCARD in Ns"). */
  discardInS?: number;
}

export interface PlutoStatus {
  conns: Map<string, ConnStatus>;
  states: StateStatus[];
  ikeSas: SaCounts;
  ipsecSas: SaCounts;
  loaded?: number;
}


const CONN_LINE = /^(?:000 )?"([^"]+)"(?:\[(\d+)\])?(?: [^:]*)?:\s+(oriented|unoriented);/;
const ROUTING_LINE = /^(?:000 )?"([^"]+)"(?: [^:]*)?: \S.*?; ([a-zA-Z, ]+); eroute owner: #\d+/;
const STATE_LINE = /^(?:000 )?#(\d+): "([^"]+)"(?:\[(\d+)\])?(?: (\S+?))?(?::\d+)? (STATE_\w+)/;
const IKE_LINE = /^(?:000 )?IKE SAs: total\((\d+)\), half-open\((\d+)\), open\((\d+)\), authenticated\((\d+)\), anonymous\((\d+)\)/;
const IPSEC_LINE = /^(?:000 )?IPsec SAs: total\((\d+)\), authenticated\((\d+)\), anonymous\((\d+)\)/;
const LOADED_LINE = /^(?:000 )?Total IPsec connections: loaded (\d+), active (\d+)/;

export function parsePlutoStatus(text: string): PlutoStatus {
  if (typeof text !== 'string') throw new EnvironmentError('ipsec status output is not text');
  const conns = new Map<string, ConnStatus>();
  const states: StateStatus[] = [];
  let ikeSas: SaCounts | undefined;
  let ipsecSas: SaCounts | undefined;
  let loaded: number | undefined;
  let complete = false;
  for (const line of text.split('\n')) {
    // The state list ends where the bare shunt list begins: the last section of the dump.
    if (/^(?:000 )?Bare Shunt list:/.test(line)) {
      if (ikeSas) complete = true;
      continue;
    }
    let m = ROUTING_LINE.exec(line);
    if (m) {
      const c = conns.get(m[1]) ?? { name: m[1], oriented: false, instances: 0 };
      c.routing = m[2];
      conns.set(m[1], c);
      continue;
    }
    m = CONN_LINE.exec(line);
    if (m) {
      const c = conns.get(m[1]) ?? { name: m[1], oriented: false, instances: 0 };
      if (m[2] !== undefined) c.instances++;
      c.oriented = c.oriented || m[3] === 'oriented';
      conns.set(m[1], c);
      continue;
    }
    const st = stateOf(line);
    if (st) {
      states.push(st);
      continue;
    }
    m = IKE_LINE.exec(line);
    if (m) {
      ikeSas = { total: +m[1], halfOpen: +m[2], open: +m[3], authenticated: +m[4], anonymous: +m[5] };
      continue;
    }
    m = IPSEC_LINE.exec(line);
    if (m) {
      ipsecSas = { total: +m[1], authenticated: +m[2], anonymous: +m[3] };
      continue;
    }
    m = LOADED_LINE.exec(line);
    if (m) loaded = +m[1];
  }
  if (!ikeSas || !ipsecSas) {
    throw new EnvironmentError('no "IKE SAs:"/"IPsec SAs:" counters: not the output of ipsec status, or truncated');
  }
  if (!complete) throw new EnvironmentError('ipsec status output ends before its "Bare Shunt list:" section: truncated');
  if (loaded !== undefined && conns.size > loaded) {
    throw new EnvironmentError(`inconsistent status: ${conns.size} conns listed but "loaded ${loaded}"`);
  }
  return { conns, states, ikeSas, ipsecSas, loaded };
}

/** Whether a conn's trap policy (or a Child SA's) is installed. */
export function isRouted(c: ConnStatus): boolean {
  return c.routing !== undefined && !/unrouted/.test(c.routing);
}

/** Conn names that have an established IKE SA. */
export function connsWithIkeSa(s: PlutoStatus): Set<string> {
  return new Set(s.states.filter((x) => x.kind === 'ike' && x.established).map((x) => x.conn));
}

/** One state line (of `--status` or `--showstates`), or undefined for any other line. */
function stateOf(line: string): StateStatus | undefined {
  const m = STATE_LINE.exec(line);
  if (!m) return undefined;
  const state = m[5];
  const kind = /IKE_SA|PARENT|_I1$|_R1$|_I0$/.test(state) ? 'ike' : /CHILD_SA/.test(state) ? 'child' : 'other';
  return {
    serial: Number(m[1]),
    conn: m[2],
    instance: m[3] !== undefined ? Number(m[3]) : undefined,
    peer: m[4],
    state,
    kind,
    established: /^STATE_V2_ESTABLISHED_/.test(state),
    newest: /; newest;/.test(line),
    ...parentOf(line),
    ...replaceIn(line),
    ...discardIn(line),
  };
}

function replaceIn(line: string): { replaceInS?: number } {
  const m = /; REPLACE in (\d+)s;/.exec(line);
  return m ? { replaceInS: Number(m[1]) } : {};
}

function discardIn(line: string): { discardInS?: number } {
  const m = /; DISCARD in (\d+)s;/.exec(line);
  return m ? { discardInS: Number(m[1]) } : {};
}

/** A Child SA's IKE SA: "IKE SA #N" in pluto 4.10's lines, "isakmp#N" in earlier ones. */
function parentOf(line: string): { parent?: number } {
  const m = /(?:; IKE SA #|isakmp#)(\d+)/.exec(line);
  return m ? { parent: Number(m[1]) } : {};
}

/** The states of `whack --showstates` (pluto's state list alone: no conn list, no counters). */
export function parseStates(text: string): StateStatus[] {
  return text.split('\n').map(stateOf).filter((x): x is StateStatus => x !== undefined);
}

/** States grouped by conn, in one pass (a VIP holder has hundreds of conns, each with its states). */
export function statesByConn(states: readonly StateStatus[]): Map<string, StateStatus[]> {
  const out = new Map<string, StateStatus[]>();
  for (const s of states) {
    const list = out.get(s.conn);
    if (list) list.push(s);
    else out.set(s.conn, [s]);
  }
  return out;
}

/**
 * `whack --showstates` (the state list alone, cheap): conn name -> whether
 * it has an established IKE SA ('up') or only one being negotiated ('negotiating').
 */
export function ikeStatesByConn(text: string): Map<string, 'up' | 'negotiating'> {
  const out = new Map<string, 'up' | 'negotiating'>();
  for (const s of parseStates(text)) {
    if (s.kind !== 'ike') continue;
    if (s.established) out.set(s.conn, 'up');
    else if (!out.has(s.conn)) out.set(s.conn, 'negotiating');
  }
  return out;
}
