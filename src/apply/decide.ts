// apply's second stage, pure: from the node plan and what observe.ts read,
// the typed list of changes to make, the journal to record before the first
// of them, and the manifest to record after the last. No I/O: every decision
// apply makes is testable without a node.
import { sha256 } from '../text/sha256.js';
import { InputError } from '../model/errors.js';
import { certNames, fileNames, isOurConn, nodePaths, RUN_DIR } from '../model/names.js';
import type { OutputFile } from '../model/types.js';
import type { PacemakerPlan } from '../plan/pacemaker.js';
import type { DeployStep } from '../plan/tunnels.js';
import type { Family } from './firewall.js';
import { withOurConfSettings, withOurSecretsInclude, withoutOurSettings } from './ipsecConf.js';
import { MANIFEST_VERSION, type Manifest } from './manifest.js';
import type { Desired, Observation } from './observe.js';
import { plutoChanges, type PlutoChange, type WantedConn } from './reconcile.js';
import { renewals } from './rotation.js';

export type Change =
  | { do: 'write'; path: string; content: string | Buffer; mode: number; existed: boolean }
  | { do: 'remove'; path: string }
  | { do: 'import-certificates'; script: string; p12: string }
  | { do: 'edit'; path: string; text: string; mode: number; created: boolean }
  | { do: 'restore'; path: string; text: string; mode: number }
  | { do: 'make-run-dir' }
  | { do: 'reread-secrets' }
  /** pluto changes, each batch one call (or one shell) however many conns: see act.ts. */
  | { do: 'pluto'; op: 'add' | 'replace'; file: string; names: string[] }
  | { do: 'pluto'; op: 'initiate' | 'route'; names: string[]; alias?: string }
  | { do: 'pluto'; op: 'delete'; names: string[] }
  /** After loads: make pluto listen when one of these conns found no local address (an address newer than pluto). */
  | { do: 'listen-if-unoriented'; conns: string[] }
  /** A rotated key: each tunnel this node initiates authenticates again, one at a time. */
  | { do: 'reauthenticate'; conns: string[] }
  | { do: 'install-firewall'; family: Family; fragment: string }
  | { do: 'remove-firewall'; family: Family }
  | { do: 'apply-pacemaker'; plan: PacemakerPlan; replaceRoleResources: boolean }
  | { do: 'remove-pacemaker'; plan: PacemakerPlan }
  | { do: 'remove-dir-if-empty'; path: string };

export interface Decision {
  /** Recorded before the first change: everything this run may come to own. */
  journal: Manifest;
  changes: Change[];
  /** Recorded after the last change (undefined: the manifest is removed, an uninstall). */
  final?: Manifest;
}

export interface ApplyChoices {
  host: string;
  /**
   * false: an image being built (apply --root): its files (and its NSS
   * database, under the root) only; the live pluto, firewall and cluster are
   * the build host's, never touched. The node's first live apply does those.
   */
  live: boolean;
  steps: DeployStep[];
  upgrade: boolean;
  /** Apply the Pacemaker plan when this node is the bootstrap node (step 3 or no step). */
  pacemaker: boolean;
  bootstrapNode?: string;
}

const bytesOf = (f: OutputFile) => f.bytes ?? Buffer.from(f.content, 'utf8');

/** Include lines name paths as the booted system sees them, whatever root apply writes under. */
const INCLUDES = {
  conf: [`/${nodePaths.ipsecD}/*.conf`, `${RUN_DIR}/*.conf`],
  secrets: `/${nodePaths.ipsecD}/*.secrets`,
};

/** Directories we may have made, emptiest first: removed by uninstall when empty (never the operator's). */
const OUR_DIRS = [nodePaths.firewallDir, nodePaths.stateDir, `${nodePaths.ipsecD}/overcloud-vip-holder`, RUN_DIR.slice(1)];

export function decideApply(d: Desired, obs: Observation, o: ApplyChoices): Decision {
  const { nodePlan, files: all } = d;
  const manifest = obs.manifest;
  const stepOf = new Map(nodePlan.files.map((f) => [f.path, f.step]));
  // The node plan itself belongs to every step.
  const wanted = all.filter((f) => !stepOf.has(f.path) || o.steps.includes(stepOf.get(f.path)!));
  const desiredPaths = new Set(all.map((f) => f.path));
  const ours = manifest?.files ?? {};
  const have = (p: string) => obs.files.get(p);
  const same = (f: OutputFile) => have(f.path)?.bytes.equals(bytesOf(f)) === true;

  // Refuse to overwrite what is not ours, unless upgrading.
  const foreign = wanted.filter((f) => have(f.path) !== undefined && !(f.path in ours) && !same(f)).map((f) => f.path);
  if (foreign.length && !o.upgrade) {
    throw new InputError(`${foreign.join(', ')} exist(s) and was not written by tripleo-ipsec; rerun with --upgrade to replace`);
  }
  // Nor leave another installation's overcloud-*.conf or .secrets (the Ansible role's) for pluto to load
  // beside ours (ipsec.conf includes those two globs): their conns join the same address pairs under other
  // names and ids. A backup (.orig, .rpmsave) is not loaded: left alone unless upgrading.
  const loaded = obs.strangers.filter((p) => /\.(conf|secrets)$/.test(p));
  if (loaded.length && !o.upgrade) {
    throw new InputError(`${loaded.join(', ')} exist(s), was not written by tripleo-ipsec and would be loaded beside its conns (an earlier installation's, such as the Ansible role's); rerun with --upgrade (IpsecUpgradeFromRole) to remove, or move away`);
  }
  const leftovers = o.upgrade ? obs.strangers : [];

  const changes: Change[] = [];
  const changedFiles = new Set<string>();
  // Files: write what changed, remove what we wrote earlier and no longer want.
  for (const f of wanted) {
    if (same(f) && have(f.path)!.mode === f.mode) continue;
    changes.push({ do: 'write', path: f.path, content: f.bytes ?? f.content, mode: f.mode, existed: have(f.path) !== undefined });
    changedFiles.add(f.path);
  }
  for (const p of [...Object.keys(ours).filter((x) => !desiredPaths.has(x)), ...leftovers]) {
    changes.push({ do: 'remove', path: p });
    changedFiles.add(p);
  }

  // Certificates: imported into pluto's NSS database when this bundle was not (its digest is recorded once it is).
  const p12 = all.find((f) => f.path === `${nodePaths.stateDir}/${certNames.p12(o.host)}`);
  const p12Sha = p12 ? sha256(bytesOf(p12)) : undefined;
  // Manifests before the record of imports: imported when the file was written.
  const imported = manifest?.imported ?? (p12 && manifest?.files[p12.path] && !changedFiles.has(p12.path) ? p12Sha : undefined);
  // Into the image's own NSS database when building one (apply --root): nssdir defaults under the root.
  if (p12 && imported !== p12Sha) {
    changes.push({ do: 'import-certificates', script: `${nodePaths.stateDir}/${certNames.importScript}`, p12: certNames.p12(o.host) });
  }

  // ipsec.conf / ipsec.secrets include our files (and uniqueids=yes).
  changes.push({ do: 'make-run-dir' });
  const conf = obs.conf?.bytes.toString('utf8');
  const secrets = obs.secrets?.bytes.toString('utf8');
  const newConf = withOurConfSettings(conf ?? '', INCLUDES.conf);
  const newSecrets = withOurSecretsInclude(secrets ?? '', INCLUDES.secrets);
  if (newConf !== conf) changes.push({ do: 'edit', path: nodePaths.ipsecConf, text: newConf, mode: obs.conf?.mode ?? 0o644, created: conf === undefined });
  if (newSecrets !== secrets) changes.push({ do: 'edit', path: nodePaths.ipsecSecrets, text: newSecrets, mode: 0o600, created: secrets === undefined });

  // pluto: the plan against what it has loaded, so a pluto that lost conns is repaired.
  const planned: WantedConn[] = nodePlan.conns.map(({ kind: _kind, ...c }) => ({ ...c, file: c.file }));
  const digests: Record<string, string> = {};
  for (const w of planned) digests[w.name] = o.steps.includes(w.step) ? w.digest : manifest?.conns?.[w.name] ?? w.digest;
  // Key identifiers of manifests before version 3 are of another form: not compared.
  const previousKeys = manifest && manifest.version >= 3 ? manifest.keys : undefined;
  let keys: Record<string, string> = Object.fromEntries(planned.filter((w) => w.key).map((w) => [w.name, w.key!]));
  if (o.live && obs.pluto) {
    // Secrets first: a conn added or replaced below authenticates with the new keys.
    if ([...changedFiles].some((p) => p.endsWith('.secrets'))) changes.push({ do: 'reread-secrets' });
    const pc = plutoChanges({ planned, steps: o.steps, status: obs.pluto, previous: manifest?.conns, changedFiles });
    // Loads first; then, only if a loaded conn found no local address, a listen (it reloads every
    // secret, which with certificates can kill a pluto signing an IKE_AUTH: docs/FACTS.md).
    const loads = pc.filter((c) => c.op === 'add' || c.op === 'replace');
    changes.push(...plutoBatches(loads, planned, o.steps));
    if (loads.length) changes.push({ do: 'listen-if-unoriented', conns: loads.map((c) => c.name) });
    changes.push(...plutoBatches(pc.filter((x) => !loads.includes(x)), planned, o.steps));
    // What pluto holds after the changes follows from them: no second status query.
    const loadedNow = new Set([...obs.pluto.conns.keys(), ...loads.map((c) => c.name)]);
    for (const c of pc) if (c.op === 'delete') loadedNow.delete(c.name);
    const r = renewals({ planned, steps: o.steps, previous: previousKeys, loaded: loadedNow, reloaded: new Set(loads.map((c) => c.name)) });
    keys = r.keys;
    if (r.renew.length) changes.push({ do: 'reauthenticate', conns: r.renew });
  }

  // Firewall chains, when their file changed or a chain or its jump is missing.
  const firewall: Family[] = [];
  if (o.live && nodePlan.firewall && o.steps.includes(1)) {
    for (const family of [4, 6] as const) {
      const f = all.find((x) => x.path === `${nodePaths.firewallDir}/${fileNames.iptables(family)}`);
      if (!f) continue;
      firewall.push(family);
      const there = obs.firewall.get(family);
      if (changedFiles.has(f.path) || !there?.chains || !there.jumps) changes.push({ do: 'install-firewall', family, fragment: f.content });
    }
  } else if (manifest) firewall.push(...manifest.firewall);

  // Pacemaker, once per cluster, from the bootstrap node at step 3.
  const cluster = nodePlan.pacemaker;
  let pacemaker = manifest?.pacemaker ?? false;
  if (o.live && o.pacemaker && o.steps.includes(3) && cluster?.plan.resources.length && (o.bootstrapNode ?? cluster.hosts[0]) === o.host) {
    changes.push({ do: 'apply-pacemaker', plan: cluster.plan, replaceRoleResources: o.upgrade });
    pacemaker = true;
  }

  // The manifest: every wanted file now holds what we want; the other step's files are ours where they still match.
  const files: Record<string, string> = {};
  const inWanted = new Set(wanted.map((f) => f.path));
  for (const f of all) if (inWanted.has(f.path) || same(f)) files[f.path] = sha256(bytesOf(f));
  const base = {
    host: o.host,
    createdConf: manifest?.createdConf ?? conf === undefined,
    createdSecrets: manifest?.createdSecrets ?? secrets === undefined,
  };
  const importedNow = changes.some((c) => c.do === 'import-certificates') ? p12Sha : imported;
  const final: Manifest = { version: MANIFEST_VERSION, ...base, complete: true, files, conns: digests, keys, firewall, pacemaker, ...(importedNow ? { imported: importedNow } : {}) };
  // The journal: everything owned before and after, so an interrupted run's uninstall misses nothing.
  const journal: Manifest = {
    version: MANIFEST_VERSION,
    ...base,
    complete: false,
    files: { ...ours, ...files },
    // A conn's recorded digest and key stay the old ones until the run is done: a run that
    // follows an interrupted one still replaces and re-authenticates what this one did not.
    conns: { ...digests, ...(manifest?.conns ?? {}) },
    keys: { ...keys, ...(previousKeys ?? {}) },
    firewall: [...new Set([...(manifest?.firewall ?? []), ...firewall])].sort(),
    pacemaker: pacemaker || (manifest?.pacemaker ?? false),
    ...(imported ? { imported } : {}),
  };
  return { journal, changes, final };
}

/**
 * pluto's changes in batches, in the order each kind first appears: adds and
 * replaces by file (one addconn each), initiates and routes by alias when
 * they cover every planned conn of the alias (one whack: a first deploy, a
 * node whose pluto lost everything), else by name. A 5 x 500 conn node costs
 * a handful of calls, not one process per conn.
 */
function plutoBatches(pc: PlutoChange[], planned: WantedConn[], steps: DeployStep[]): Change[] {
  const out: Change[] = [];
  const batches = new Map<string, Change & { do: 'pluto' }>();
  const ofAlias = new Map<string, Set<string>>();
  for (const w of planned) if (w.alias && steps.includes(w.step)) ofAlias.set(`${w.auto} ${w.alias}`, (ofAlias.get(`${w.auto} ${w.alias}`) ?? new Set()).add(w.name));
  const aliasOf = new Map(planned.map((w) => [w.name, w.alias]));
  for (const c of pc) {
    const key = c.op === 'add' || c.op === 'replace' ? `${c.op} ${c.file}` : c.op === 'delete' ? 'delete' : `${c.op} ${aliasOf.get(c.name) ?? ''}`;
    let b = batches.get(key);
    if (!b) {
      b = c.op === 'add' || c.op === 'replace' ? { do: 'pluto', op: c.op, file: c.file, names: [] } : c.op === 'delete' ? { do: 'pluto', op: 'delete', names: [] } : { do: 'pluto', op: c.op, names: [] };
      batches.set(key, b);
      out.push(b);
    }
    b.names.push(c.name);
  }
  for (const b of out) {
    if (b.do !== 'pluto' || (b.op !== 'initiate' && b.op !== 'route')) continue;
    const alias = aliasOf.get(b.names[0]);
    const all = alias ? ofAlias.get(`${b.op === 'initiate' ? 'start' : 'route'} ${alias}`) : undefined;
    if (alias && all && all.size === b.names.length && b.names.every((n) => all.has(n))) (b as { alias?: string }).alias = alias;
  }
  return out;
}

/**
 * Everything an apply made, removed: from the manifest, complete or a journal
 * an interrupted run left. `installedPlan`: the Pacemaker plan this node
 * applied (from its installed node plan).
 */
export function decideUninstall(obs: Observation, o: { live: boolean; pacemaker: boolean; installedPlan?: PacemakerPlan }): Decision | undefined {
  const m = obs.manifest;
  if (!m) return undefined;
  const changes: Change[] = [];
  if (obs.pluto) {
    const ours = [...obs.pluto.conns.keys()].filter((n) => isOurConn(n, m.conns)).sort();
    if (ours.length) changes.push({ do: 'pluto', op: 'delete', names: ours });
  }
  for (const p of Object.keys(m.files)) if (obs.files.get(p) !== undefined) changes.push({ do: 'remove', path: p });
  for (const [path, created, state] of [[nodePaths.ipsecConf, m.createdConf, obs.conf], [nodePaths.ipsecSecrets, m.createdSecrets, obs.secrets]] as const) {
    if (!state) continue;
    const text = state.bytes.toString('utf8');
    if (created) changes.push({ do: 'remove', path });
    else {
      const restored = withoutOurSettings(text);
      if (restored !== text) changes.push({ do: 'restore', path, text: restored, mode: state.mode });
    }
  }
  if (obs.pluto) changes.push({ do: 'reread-secrets' });
  if (o.live) for (const f of m.firewall) changes.push({ do: 'remove-firewall', family: f });
  if (o.live && m.pacemaker && o.pacemaker) {
    if (!o.installedPlan) throw new InputError(`${nodePaths.nodePlan}: no Pacemaker plan in it, though this node applied one: remove the cluster's tripleo-ipsec resources with tripleo-ipsec pacemaker remove`);
    changes.push({ do: 'remove-pacemaker', plan: o.installedPlan });
  }
  for (const d of OUR_DIRS) changes.push({ do: 'remove-dir-if-empty', path: d });
  return { journal: { ...m, complete: false }, changes };
}

/**
 * After a reboot (or a firewall service that reloaded its own rules): the
 * chains the last apply installed, put back from the fragments it
 * installed, no inputs needed. Only families whose chains or jumps are
 * missing; the manifest stays as it is.
 */
export function decideFirewallRestore(obs: Observation): Decision | undefined {
  const m = obs.manifest;
  if (!m) return undefined;
  const changes: Change[] = [];
  for (const family of m.firewall) {
    const path = `${nodePaths.firewallDir}/${fileNames.iptables(family)}`;
    const fragment = obs.files.get(path);
    if (!fragment) throw new InputError(`/${path}: the manifest says apply installed it, but it is not there: run apply`);
    const there = obs.firewall.get(family);
    if (!there?.chains || !there.jumps) changes.push({ do: 'install-firewall', family, fragment: fragment.bytes.toString('utf8') });
  }
  return { journal: m, changes, final: m };
}
