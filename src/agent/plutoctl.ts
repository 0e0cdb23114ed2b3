// The agent's lean pluto client: whack and addconn run directly (not the
// `ipsec` shell wrapper), argv only, every call bounded by the action's
// deadline. Costs measured in docs/FACTS.md: whack --name X --debug none ~2 ms
// whatever pluto holds; whack --status grows with the number of conns.
import { existsSync } from 'node:fs';
import { log, OCF, OcfExit } from './ocf.js';
import { spawnQuick } from './spawn.js';
import { ADDCONN, WHACK, WHACK_RC } from '../libreswan/whack.js';

export interface Result {
  status: number;
  out: string;
}

export class Deadline {
  readonly at: number;
  constructor(totalMs: number) {
    // Answer before Pacemaker gives up: keep a tenth (at least 300 ms) in reserve.
    this.at = Date.now() + Math.max(500, totalMs - Math.max(300, totalMs / 10));
  }
  remaining(): number {
    return this.at - Date.now();
  }
}

export class PlutoCtl {
  constructor(
    readonly ctlsocket: string,
    readonly deadline: Deadline,
  ) {}

  private run(bin: string, args: string[], what: string, capture = true): Result {
    const timeout = this.deadline.remaining();
    if (timeout <= 0) throw new OcfExit(OCF.ERR_GENERIC, `out of time before ${what}`);
    const began = Date.now();
    const r = spawnQuick(bin, args, timeout, capture || log.tracing);
    if (r.timedOut) throw new OcfExit(OCF.ERR_GENERIC, `${what} did not answer within ${timeout} ms (pluto hung?)`);
    if (r.error) throw new OcfExit(OCF.ERR_INSTALLED, `cannot run ${bin}: ${r.error}`);
    const out = `${r.stdout}${r.stderr}`.trim();
    const status = r.status ?? 1;
    log.debug(`${what}: ${[bin, ...args].join(' ')} -> ${status} in ${Date.now() - began} ms${out ? `: ${out.split('\n')[0]}` : ''}`);
    return { status, out };
  }

  private whack(args: string[], what: string, capture = true): Result {
    return this.run(WHACK, ['--ctlsocket', this.ctlsocket, ...args], what, capture);
  }

  /** Whether a pluto answers on the control socket at all. */
  socketPresent(): boolean {
    return existsSync(this.ctlsocket);
  }

  /**
   * Whether conn `name` is loaded: 'yes', 'no', or 'no-pluto'.
   * `--name X --debug none` is the cheapest per-conn query pluto 4.10 has
   * (side effect: it clears that conn's debug flags).
   */
  connLoaded(name: string): 'yes' | 'no' | 'no-pluto' {
    if (!this.socketPresent()) return 'no-pluto';
    // Only the exit status matters: no pipes to set up (about 1 ms).
    const r = this.whack(['--name', name, '--debug', 'none'], `query conn ${name}`, false);
    if (r.status === WHACK_RC.OK) return 'yes';
    if (r.status === WHACK_RC.NO_CONNECTION) return 'no';
    if (r.status === WHACK_RC.NOT_RUNNING) return 'no-pluto';
    throw new OcfExit(OCF.ERR_GENERIC, `whack query of conn ${name} failed (exit ${r.status}): ${firstLine(r.out)}`);
  }

  /** Remove a conn and its SAs; pluto sends IKE Delete to the peers. Absent is fine. */
  deleteConn(name: string): void {
    const r = this.whack(['--name', name, '--delete'], `delete conn ${name}`);
    if (r.status !== WHACK_RC.OK && r.status !== WHACK_RC.NO_CONNECTION && r.status !== WHACK_RC.NOT_RUNNING) {
      throw new OcfExit(OCF.ERR_GENERIC, `whack --delete ${name} failed (exit ${r.status}): ${firstLine(r.out)}`);
    }
  }

  /** Load conns from `file` (one addconn for all: it costs a process start, not the conns). */
  addConns(file: string, names: string[]): void {
    if (!names.length) return;
    const r = this.run(ADDCONN, ['--ctlsocket', this.ctlsocket, '--config', file, ...names], `add ${names.length} conn(s)`);
    if (r.status !== 0) {
      throw new OcfExit(OCF.ERR_GENERIC, `ipsec addconn from ${file} failed (exit ${r.status}): ${firstLine(r.out)}`);
    }
  }

  /**
   * Initiate, asynchronously, every conn that carries `alias` (connalias):
   * one whack, one round trip to pluto, whatever the number of conns (pluto
   * 4.x initiates each conn of an alias when no conn has that name). Not
   * `addconn --autoall`: after adding, it makes pluto listen, and pluto's
   * listen reloads every secret; with certificates that frees the private
   * key a crypto helper may be signing an IKE_AUTH with, and pluto 4.10
   * dies of it (SIGSEGV in PK11_SignWithMechanism, docs/FACTS.md).
   */
  initiateAlias(alias: string): void {
    const r = this.whack(['--name', alias, '--initiate', '--asynchronous'], `initiate ${alias}`);
    if (r.status !== WHACK_RC.OK) throw new OcfExit(OCF.ERR_GENERIC, `whack --initiate of ${alias} failed (exit ${r.status}): ${firstLine(r.out)}`);
  }

  /**
   * Delete every conn that carries `alias` and its SAs (pluto sends each
   * peer an IKE Delete): one whack. pluto 4.x says nothing when none carries
   * it: the caller checks.
   */
  deleteAlias(alias: string): void {
    const r = this.whack(['--name', alias, '--delete'], `delete ${alias}`);
    if (r.status !== WHACK_RC.OK && r.status !== WHACK_RC.NO_CONNECTION && r.status !== WHACK_RC.NOT_RUNNING) throw new OcfExit(OCF.ERR_GENERIC, `whack --delete of ${alias} failed (exit ${r.status}): ${firstLine(r.out)}`);
  }

  /** `whack --initiate --asynchronous` for each conn, all at once; fails if any failed. Names pass as arguments, never through the shell's parser. */
  initiateAllAsync(names: string[]): void {
    if (!names.length) return;
    // Each whack is bounded by the action's deadline itself (timeout -s KILL): killing the shell alone would leave them behind on a hung pluto.
    const script = 'w=$1; s=$2; t=$3; shift 3; pids=; for c; do timeout -s KILL "$t" "$w" --ctlsocket "$s" --name "$c" --initiate --asynchronous >/dev/null & pids="$pids $!"; done; rc=0; for p in $pids; do wait "$p" || rc=$?; done; exit $rc';
    const seconds = Math.max(0.1, (this.deadline.remaining() - 50) / 1000).toFixed(2);
    const r = this.run('/bin/sh', ['-c', script, 'initiate', WHACK, this.ctlsocket, seconds, ...names], `initiate ${names.length} conn(s)`);
    if (r.status !== 0) throw new OcfExit(OCF.ERR_GENERIC, `initiating ${names.length} conn(s) failed (a whack exited ${r.status}): ${firstLine(r.out)}`);
  }

  /** Delete a conn's SAs (IKE Delete to the peer), keeping the conn; for a template, its instances go. */
  terminate(name: string): 'terminated' | 'absent' {
    const r = this.whack(['--name', name, '--terminate'], `terminate ${name}`);
    if (r.status === WHACK_RC.NOT_RUNNING) throw new OcfExit(OCF.ERR_GENERIC, `pluto is not running (no answer on ${this.ctlsocket})`);
    if (r.status === WHACK_RC.NO_CONNECTION) return 'absent';
    if (r.status !== WHACK_RC.OK) throw new OcfExit(OCF.ERR_GENERIC, `whack --terminate ${name} failed (exit ${r.status}): ${firstLine(r.out)}`);
    return 'terminated';
  }

  /** The state list alone (what --status costs minus every conn's description). */
  showStates(): string {
    const r = this.whack(['--showstates'], 'whack --showstates');
    if (r.status !== 0) throw new OcfExit(OCF.ERR_GENERIC, `whack --showstates failed (exit ${r.status})`);
    return r.out;
  }
}

function firstLine(s: string): string {
  const l = s.split('\n').find((x) => x.trim() !== '') ?? '';
  return l.replace(/^\d{3} /, '').slice(0, 100);
}
