// The CLI's pluto client (apply, status --local): one status query that
// says what pluto has loaded and established, and the changes apply makes.
// It runs whack and addconn through the one command runner, with whack's
// exit codes given the meanings in whack.ts. The agent has its own lean
// client on its hot path (src/agent/plutoctl.ts).
import { existsSync } from 'node:fs';
import { EnvironmentError } from '../model/errors.js';
import { commandFailed, runCommand, type Command, type CommandResult } from '../system/command.js';
import { oneLine } from '../text/printable.js';
import { ADDCONN, WHACK, WHACK_RC } from './whack.js';
import { parsePlutoStatus, type PlutoStatus } from './whackStatus.js';

const QUERY_MS = 30_000;
const CHANGE_MS = 60_000;
const ADD_CHUNK = 400;

export class PlutoClient {
  constructor(readonly ctlsocket: string) {}

  /** Whether a pluto has its control socket there (it may still not answer: status() says). */
  running(): boolean {
    return existsSync(this.ctlsocket);
  }

  private whack(what: string, args: string[], timeoutMs = CHANGE_MS): Command {
    return { what, argv: [WHACK, '--ctlsocket', this.ctlsocket, ...args], timeoutMs };
  }

  /** Run a whack or addconn call; whack's exit codes mean the same for every call. */
  private async call(c: Command, alsoOk: number[] = []): Promise<CommandResult> {
    const r = await runCommand(c);
    if (r.exitCode === WHACK_RC.NOT_RUNNING) throw new EnvironmentError(`${c.what}: no pluto answers on ${this.ctlsocket}`);
    if (r.exitCode !== WHACK_RC.OK && !alsoOk.includes(r.exitCode)) throw commandFailed(c, r);
    return r;
  }

  private async change(c: Command, alsoOk: number[] = []): Promise<string> {
    await this.call(c, alsoOk);
    return c.what;
  }

  /** Everything pluto holds, in one query: loaded conns, their routing, every state, the SA counters. */
  async status(): Promise<PlutoStatus> {
    const r = await this.call(this.whack("pluto's status (whack --status)", ['--status'], QUERY_MS));
    return parsePlutoStatus(r.stdout);
  }

  /** Load conn `name` from `file`; if pluto has it already, it is replaced (and its SAs go). */
  add(file: string, name: string): Promise<string> {
    return this.change({ what: `add ${name}`, argv: [ADDCONN, '--ctlsocket', this.ctlsocket, '--config', file, name], timeoutMs: CHANGE_MS });
  }

  /** Replace a loaded conn by its new definition: delete, then add. */
  async replace(file: string, name: string): Promise<string> {
    await this.change(this.whack(`delete ${name}`, ['--name', name, '--delete']), [WHACK_RC.NO_CONNECTION]);
    await this.add(file, name);
    return `replace ${name}`;
  }

  /** Load many conns of one file: one addconn per 400 names (an argv of a few dozen KiB). A loaded conn is replaced by it. */
  async addMany(file: string, names: string[]): Promise<void> {
    for (let i = 0; i < names.length; i += ADD_CHUNK) {
      const chunk = names.slice(i, i + ADD_CHUNK);
      await this.call({ what: `add ${chunk.length} conn(s) from ${file}`, argv: [ADDCONN, '--ctlsocket', this.ctlsocket, '--config', file, ...chunk], timeoutMs: CHANGE_MS + chunk.length * 50 });
    }
  }

  /**
   * One whack per name, run one after another from one shell (a process
   * start each, not a Node child each): for the few conns a repair touches.
   * `allowed`: exit codes that are answers (21: no such conn, for delete).
   */
  async eachConn(what: string, args: string[], names: string[], allowed: number[] = []): Promise<void> {
    if (!names.length) return;
    const script = 'w=$1; s=$2; n=$3; shift 3; set -f; for c in "$@"; do "$w" --ctlsocket "$s" --name "$c" $n >/dev/null 2>&1; rc=$?; case " 0 $ALLOWED " in *" $rc "*) ;; *) echo "$c: exit $rc"; esac; done';
    const r = await runCommand({ what: `${what} ${names.length} conn(s)`, argv: ['sh', '-c', script, what, WHACK, this.ctlsocket, args.join(' '), ...names], timeoutMs: CHANGE_MS + names.length * 100, env: { ALLOWED: allowed.join(' ') } });
    if (r.exitCode !== 0 || r.stdout.trim()) {
      if (/exit 33\b/.test(r.stdout)) throw new EnvironmentError(`${what}: no pluto answers on ${this.ctlsocket}`);
      throw new EnvironmentError(`${what} failed for ${oneLine(r.stdout || r.stderr)}`);
    }
  }

  /** One whack for every conn that carries `alias`. */
  alias(what: string, alias: string, args: string[]): Promise<string> {
    return this.change(this.whack(`${what} ${alias}`, ['--name', alias, ...args]));
  }

  /** Start negotiating without waiting for the peer (a synchronous --up can block 64 s). */
  initiate(name: string): Promise<string> {
    return this.change(this.whack(`up ${name}`, ['--name', name, '--initiate', '--asynchronous']));
  }

  /** Install the conn's trap policy (auto=route): traffic triggers it, nothing leaves in clear meanwhile. */
  route(name: string): Promise<string> {
    return this.change(this.whack(`route ${name}`, ['--name', name, '--route']));
  }

  /** Remove a conn and its SAs (IKE Delete to the peer). Already gone is fine. */
  delete(name: string): Promise<string> {
    return this.change(this.whack(`delete ${name}`, ['--name', name, '--delete']), [WHACK_RC.NO_CONNECTION]);
  }

  /** Delete one state (an IKE SA takes its Child SAs along); an auto=start conn is revived at once. */
  deleteState(serial: number): Promise<string> {
    return this.change(this.whack(`delete state #${serial}`, ['--deletestate', String(serial)]));
  }

  rereadSecrets(): Promise<string> {
    return this.change(this.whack('reread secrets', ['--rereadsecrets']));
  }

  /** Look for new interfaces and addresses (a VIP, a new network) before adding conns on them. */
  listen(): Promise<string> {
    return this.change(this.whack('listen', ['--listen']));
  }
}
