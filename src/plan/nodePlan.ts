// What a node's apply needs besides its files, in one file of the host's
// tree (var/lib/tripleo-ipsec/node-plan.json): each file's mode, deploy step
// and digest; each conn's kind, step, auto= and definition digest, and a
// short digest of the key it authenticates with (to know when a rotation
// must re-authenticate it); the firewall switch; on cluster nodes the
// Pacemaker plan. No secret is in it.
//
// It is the contract between the undercloud and a node: the heat template's
// external deploy step generates every host's tree on the undercloud (the
// only place the master PSK and the CA key live) and ships each node its own
// tree, which `apply --tree` installs without the inventory.
import { InputError } from '../model/errors.js';
import { CONN_NAME, HOST_NAME, nodePaths } from '../model/names.js';
import type { PacemakerPlan } from './pacemaker.js';
import { sha256 } from '../text/sha256.js';
import type { Conn, ConnAuto, ConnKind, DeployStep, HostPlan } from './tunnels.js';

const NODE_PLAN_FORMAT = 'tripleo-ipsec node plan';

export interface NodePlanFile {
  /** Relative to the node's root. */
  path: string;
  /** Octal, as in chmod: "0600". */
  mode: string;
  step: DeployStep;
  sha256: string;
}

export interface NodePlanConn {
  name: string;
  kind: ConnKind;
  step: DeployStep;
  auto: ConnAuto;
  /** The conn file pluto loads it from, relative to the node's root. */
  file: string;
  /** A VIP holder's end: only the agent loads it, where the VIP is. */
  agentOnly: boolean;
  /** Digest of its definition: a change means a replace. */
  digest: string;
  /** Identifier of its pre-shared key (none with certificates): a change means a re-authentication. */
  key?: string;
  /** Its connalias: one whack acts on every conn that carries it. */
  alias?: string;
}

export interface NodePlan {
  format: typeof NODE_PLAN_FORMAT;
  version: 1;
  host: string;
  files: NodePlanFile[];
  conns: NodePlanConn[];
  /** ipsec_skip_firewall_rules unset: apply installs the firewall chains. */
  firewall: boolean;
  /** On cluster nodes: every cluster node (the first is the default bootstrap node) and the plan it applies. */
  pacemaker?: { hosts: string[]; plan: PacemakerPlan };
  /** IpsecVars ipsec_uninstall_tunnels: apply removes everything it installed instead. */
  uninstall?: true;
  /** IpsecVars ipsec_upgrade_tunnels: apply replaces what an earlier installation left (as --upgrade). */
  upgrade?: true;
}

/**
 * What identifies a conn's definition: its options and auto=, not its
 * comment nor its connalias (a label for whack, not for a negotiation: a new
 * alias never makes apply replace a running tunnel).
 */
export function connDigest(c: Conn): string {
  // JSON.stringify([options without connalias, auto]), written out: a mesh host digests thousands
  // of conns, and a string JSON leaves as it is needs no escaping (a unit test holds the two equal).
  let json = '[[';
  for (const [k, v] of c.options) {
    if (k === 'connalias') continue;
    json += `${json.length > 2 ? ',' : ''}[${jsonString(k)},${jsonString(v)}]`;
  }
  return sha256(`${json}],${jsonString(c.auto)}]`).slice(0, 32);
}

/** Characters JSON.stringify writes as they are (no quote, backslash, control character or lone surrogate). */
const JSON_PLAIN = /^[^"\\\u0000-\u001f\ud800-\udfff]*$/;
const jsonString = (s: string) => (JSON_PLAIN.test(s) ? `"${s}"` : JSON.stringify(s));

/** A conn's connalias, if it has one. */
function connAlias(c: Conn): string | undefined {
  return c.options.find(([k]) => k === 'connalias')?.[1];
}

/**
 * A key's identifier on one host for one conn: tells the key it had from the
 * key it has now (a rotation) and nothing else. Bound to the host and conn
 * (SHA-256 over both and the key), so no two nodes hold the same value and
 * none is a fingerprint of the master PSK (in shared mode every conn's key is
 * the master) to test guesses against across nodes; the file it sits in is
 * 0600. One hash a conn: a 1,000-node mesh has 10 million of them.
 */
export function keyId(psk: string, host: string, conn: string): string {
  return sha256(`tripleo-ipsec key id\0${host}\0${conn}\0${psk}`).slice(0, 16);
}

export interface NodePlanInputs {
  plan: HostPlan;
  /** The host's other files, rendered, with the step each belongs to. */
  files: { path: string; mode: number; content: string | Buffer; step: DeployStep }[];
  /** Path of each conn's file, by file of the plan. */
  confPathOf: (f: HostPlan['files'][number]) => string;
  firewall: boolean;
  pacemaker?: NodePlan['pacemaker'];
  uninstall?: boolean;
  upgrade?: boolean;
}

export function buildNodePlan(i: NodePlanInputs): NodePlan {
  return {
    format: NODE_PLAN_FORMAT,
    version: 1,
    host: i.plan.node.name,
    files: i.files.map((f) => ({ path: f.path, mode: octal(f.mode), step: f.step, sha256: sha256(f.content) })),
    conns: i.plan.files.flatMap((f) =>
      f.conns.map((c) => {
        const key = c.psk;
        return {
          name: c.name,
          kind: c.kind,
          step: c.step,
          auto: c.auto,
          file: i.confPathOf(f),
          agentOnly: f.agentOnly === true,
          digest: connDigest(c),
          ...(key ? { key: keyId(key.psk, i.plan.node.name, c.name) } : {}),
          ...(connAlias(c) ? { alias: connAlias(c) } : {}),
        };
      }),
    ),
    firewall: i.firewall,
    ...(i.pacemaker ? { pacemaker: i.pacemaker } : {}),
    ...(i.uninstall ? { uninstall: true as const } : {}),
    ...(i.upgrade ? { upgrade: true as const } : {}),
  };
}

/**
 * The file's text: compact, each file's conns grouped under it as rows
 * [name, kind, auto, digest, key or null]. A mesh host lists thousands of
 * conns, and a key per field per conn made the node plans of a 500-node
 * overcloud half as large as all its conf files.
 */
export function serializeNodePlan(p: NodePlan): string {
  // A file's conns share their aliases, one per auto=: kept once per file, by auto.
  const groups: { file: string; step: DeployStep; agentOnly: boolean; aliases?: Record<string, string>; conns: (string | null)[][] }[] = [];
  for (const c of p.conns) {
    let g = groups[groups.length - 1];
    if (!g || g.file !== c.file || g.step !== c.step || g.agentOnly !== c.agentOnly) groups.push((g = { file: c.file, step: c.step, agentOnly: c.agentOnly, conns: [] }));
    if (c.alias) {
      g.aliases ??= {};
      if (g.aliases[c.auto] !== undefined && g.aliases[c.auto] !== c.alias) throw new Error(`bug: two aliases for auto=${c.auto} in ${c.file}`);
      g.aliases[c.auto] = c.alias;
    }
    g.conns.push([c.name, c.kind, c.auto, c.digest, c.key ?? null]);
  }
  const { conns: _flat, ...rest } = p;
  return JSON.stringify({ ...rest, connFiles: groups }) + '\n';
}

function octal(mode: number): string {
  return `0${(mode & 0o777).toString(8).padStart(3, '0')}`;
}

const STEPS: readonly number[] = [1, 3];
const KINDS: readonly string[] = ['node-to-node', 'vip-end', 'vip-holder', 'opportunistic', 'clear'];
const AUTOS: readonly string[] = ['add', 'start', 'route', 'ondemand'];
// Our files live under these, and nothing in a node plan may point elsewhere.
const NODE_PATH = new RegExp(`^(?:${[nodePaths.ipsecD, nodePaths.firewallDir, nodePaths.stateDir].map((p) => p.replace(/[.]/g, '\\.')).join('|')})/(?:[A-Za-z0-9_.-]+/)*[A-Za-z0-9_][A-Za-z0-9_.-]*$`);

/** Parse and check a node plan; every problem names the file and the field. */
export function parseNodePlan(text: string, where: string): NodePlan {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new InputError(`${where}: not JSON (${(e as Error).message})`, { cause: e });
  }
  const bad = (field: string, value: unknown, why: string): never => {
    throw new InputError(`${where}: ${field}=${JSON.stringify(value)}: ${why}`);
  };
  const p = v as Partial<NodePlan> | null;
  if (!p || typeof p !== 'object') return bad('(top level)', v, 'not an object');
  if (p.format !== NODE_PLAN_FORMAT) bad('format', p.format, `not "${NODE_PLAN_FORMAT}": not a file generate wrote`);
  if (p.version !== 1) bad('version', p.version, 'this tripleo-ipsec reads version 1; generate and apply must be the same version');
  if (typeof p.host !== 'string' || !HOST_NAME.test(p.host)) bad('host', p.host, 'not a host name');
  if (!Array.isArray(p.files)) bad('files', p.files, 'not a list');
  const groups = (v as { connFiles?: unknown }).connFiles;
  if (!Array.isArray(groups)) bad('connFiles', groups, 'not a list');
  const conns: NodePlanConn[] = [];
  const at: string[] = [];
  (groups as unknown[]).forEach((g, gi) => {
    const grp = g as { file?: unknown; step?: unknown; agentOnly?: unknown; aliases?: unknown; conns?: unknown } | null;
    if (!grp || typeof grp !== 'object' || !Array.isArray(grp.conns)) return bad(`connFiles[${gi}]`, g, 'not a file with its conns');
    const aliases = (grp.aliases ?? {}) as Record<string, unknown>;
    if (typeof aliases !== 'object' || Array.isArray(aliases) || !Object.entries(aliases).every(([a, v]) => AUTOS.includes(a) && typeof v === 'string' && CONN_NAME.test(v))) bad(`connFiles[${gi}].aliases`, grp.aliases, 'not a mapping of auto= to a conn alias');
    for (const [ci, row] of (grp.conns as unknown[]).entries()) {
      if (!Array.isArray(row) || row.length !== 5) bad(`connFiles[${gi}].conns[${ci}]`, row, 'not [name, kind, auto, digest, key]');
      const [name, kind, auto, digest, key] = row as unknown[];
      const alias = aliases[auto as string];
      conns.push({ name, kind, step: grp.step, auto, file: grp.file, agentOnly: grp.agentOnly, digest, ...(key === null ? {} : { key }), ...(alias ? { alias } : {}) } as NodePlanConn);
      at.push(`connFiles[${gi}].conns[${ci}]`);
    }
  });
  p.conns = conns;
  if (typeof p.firewall !== 'boolean') bad('firewall', p.firewall, 'not true or false');
  for (const k of ['uninstall', 'upgrade'] as const) if (p[k] !== undefined && p[k] !== true) bad(k, p[k], 'not true (or absent)');
  p.files!.forEach((f, i) => {
    if (typeof f?.path !== 'string' || !NODE_PATH.test(f.path) || f.path.split('/').includes('..')) bad(`files[${i}].path`, f?.path, `not a path under ${nodePaths.ipsecD}, ${nodePaths.firewallDir} or ${nodePaths.stateDir}`);
    if (typeof f.mode !== 'string' || !/^0[0-7]{3}$/.test(f.mode)) bad(`files[${i}].mode`, f.mode, 'not an octal mode such as "0600"');
    if (!STEPS.includes(f.step)) bad(`files[${i}].step`, f.step, 'not a deploy step (1 or 3)');
    if (typeof f.sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(f.sha256)) bad(`files[${i}].sha256`, f.sha256, 'not a SHA-256 digest');
  });
  const paths = new Set(p.files!.map((f) => f.path));
  p.conns!.forEach((c, i) => {
    if (typeof c?.name !== 'string' || !CONN_NAME.test(c.name)) bad(`${at[i]}[0] (name)`, c?.name, 'not a conn name');
    if (!KINDS.includes(c.kind)) bad(`${at[i]}[1] (kind)`, c.kind, `not one of ${KINDS.join(', ')}`);
    if (!STEPS.includes(c.step)) bad(`${at[i].replace(/\.conns\[\d+\]$/, '')}.step`, c.step, 'not a deploy step (1 or 3)');
    if (!AUTOS.includes(c.auto)) bad(`${at[i]}[2] (auto)`, c.auto, `not one of ${AUTOS.join(', ')}`);
    if (!paths.has(c.file)) bad(`${at[i].replace(/\.conns\[\d+\]$/, '')}.file`, c.file, 'not one of the files listed');
    if (typeof c.agentOnly !== 'boolean') bad(`${at[i].replace(/\.conns\[\d+\]$/, '')}.agentOnly`, c.agentOnly, 'not true or false');
    if (typeof c.digest !== 'string' || !/^[0-9a-f]{32}$/.test(c.digest)) bad(`${at[i]}[3] (digest)`, c.digest, 'not a digest');
    if (c.key !== undefined && (typeof c.key !== 'string' || !/^[0-9a-f]{16}$/.test(c.key))) bad(`${at[i]}[4] (key)`, c.key, 'not a key digest');
  });
  if (p.pacemaker !== undefined) {
    const pm = p.pacemaker;
    if (!Array.isArray(pm?.hosts) || !pm.hosts.every((h) => typeof h === 'string' && HOST_NAME.test(h))) bad('pacemaker.hosts', pm?.hosts, 'not a list of host names');
    if (!pm.plan || typeof pm.plan !== 'object' || !Array.isArray(pm.plan.resources) || !Array.isArray(pm.plan.constraints)) bad('pacemaker.plan', '(object)', 'not the Pacemaker plan generate writes');
  }
  return p as NodePlan;
}
