// What a deploy step runs on one node: that node's files in place (only what
// changed, atomically, with the right modes), ipsec.conf/ipsec.secrets
// including them, pluto reconciled with the plan (one status query, then
// only the changes), the firewall chain, and on the bootstrap node the
// Pacemaker plan. A manifest records what we created, so a second run
// changes nothing and --uninstall removes exactly that.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, rmSync, rmdirSync, statSync } from 'node:fs';
import { makeDirs } from '../output/makeDirs.js';
import { join, resolve } from 'node:path';
import { generate, type GenerateOptions } from '../generate.js';
import { EnvironmentError, InputError } from '../model/errors.js';
import { certNames, fileNames, FILE_PREFIX, nodePaths, RUN_DIR, VIP_HOLDER_DIR } from '../model/names.js';
import type { OutputFile } from '../model/types.js';
import type { DeployStep } from '../plan/tunnels.js';
import { replaceFileAtomically } from '../output/atomicTree.js';
import { PlutoClient } from '../libreswan/plutoClient.js';
import { runCommand } from '../system/command.js';
import { withOurConfSettings, withOurSecretsInclude, withoutOurSettings } from './ipsecConf.js';
import { chainRules, installChain, jumpPresent, removeChain, type Family } from './firewall.js';
import { readManifest, writeManifest, type Manifest } from './manifest.js';
import { isOurConn, plutoChanges, type PlutoChange, type WantedConn } from './reconcile.js';
import { reauthenticate, renewals } from './rotation.js';
import { parseNodePlan } from '../plan/nodePlan.js';
import { readNodeTree, type NodeTree } from './nodeTree.js';
import { applyPlan, removePlan } from '../pacemaker/cibUpdate.js';

export interface ApplyNodeOptions {
  host: string;
  /**
   * Where this node's desired state comes from: the inventory and IpsecVars
   * (generate runs here), or a host tree generate wrote elsewhere (the
   * undercloud) with its node plan. Uninstall needs neither.
   */
  source?: { inputs: Omit<GenerateOptions, 'hosts' | 'outDir'> } | { tree: string };
  root: string;
  step?: DeployStep;
  uninstall: boolean;
  upgrade: boolean;
  ctlsocket: string;
  /** Apply the Pacemaker plan when this node is the bootstrap node (step 3 or no step). */
  pacemaker: boolean;
  /** Bootstrap node name; default: the first pacemaker node. */
  bootstrapNode?: string;
  /** pluto's NSS database, where ipsec_auth=cert imports the node's certificate. */
  nssdir?: string;
}

export interface ApplyNodeReport {
  changes: string[];
  pluto: string[];
  /** pluto was not running: files only */
  plutoSkipped: boolean;
}

const sha = (s: string | Buffer) => createHash('sha256').update(s).digest('hex');

function readBytes(path: string): Buffer | undefined {
  try {
    return readFileSync(path);
  } catch {
    return undefined;
  }
}

function readIf(path: string): string | undefined {
  return readBytes(path)?.toString('utf8');
}

/** Whether a file's bytes are exactly what we would write. */
function sameAs(f: OutputFile, have: Buffer | undefined): boolean {
  return have !== undefined && have.equals(f.bytes ?? Buffer.from(f.content, 'utf8'));
}

/** This node's files and node plan, generated here from the inputs. */
function generateHere(inputs: Omit<GenerateOptions, 'hosts' | 'outDir'>, host: string, root: string): NodeTree {
  const r = generate({ ...inputs, hosts: [host], outDir: join(root, nodePaths.stateDir) });
  if (r.psk !== 'given' && !r.overcloud.vars.use_opportunistic_ipsec) {
    throw new InputError('apply needs ipsec_psk from an environment (every node must hold the same key): pass the file generate or heat-env wrote with -e, or install a tree generated on the undercloud with --tree');
  }
  const files = r.hostFiles(host);
  const planFile = files.find((f) => f.path === nodePaths.nodePlan)!;
  return { nodePlan: parseNodePlan(planFile.content, `${nodePaths.nodePlan} as generated`), files };
}

function desiredState(o: ApplyNodeOptions, root: string): NodeTree {
  if (!o.source) throw new InputError('apply needs --inventory (and -e with IpsecVars) or --tree');
  return 'tree' in o.source ? readNodeTree(o.source.tree, o.host) : generateHere(o.source.inputs, o.host, root);
}

async function runPlutoChange(pluto: PlutoClient, c: PlutoChange): Promise<string> {
  switch (c.op) {
    case 'add':
      return pluto.add(c.file, c.name);
    case 'replace':
      return pluto.replace(c.file, c.name);
    case 'initiate':
      return pluto.initiate(c.name);
    case 'route':
      return pluto.route(c.name);
    case 'delete':
      return pluto.delete(c.name);
  }
}

export async function applyNode(o: ApplyNodeOptions): Promise<ApplyNodeReport> {
  const root = resolve(o.root);
  const pluto = new PlutoClient(o.ctlsocket);
  const report: ApplyNodeReport = { changes: [], pluto: [], plutoSkipped: !pluto.running() };
  const manifest = readManifest(root);
  if (o.uninstall) return uninstall(o, root, manifest, pluto, report);

  // 1. Everything this node should have, validated before anything is touched.
  const { nodePlan, files: all } = desiredState(o, root);
  const steps: DeployStep[] = o.step === undefined ? [1, 3] : [o.step];
  const stepOf = new Map(nodePlan.files.map((f) => [f.path, f.step]));
  // The node plan itself belongs to every step.
  const wanted = all.filter((f) => !stepOf.has(f.path) || steps.includes(stepOf.get(f.path)!));
  const desiredPaths = new Set(all.map((f) => f.path));
  const firewallOn = nodePlan.firewall;

  // 2. Refuse to overwrite what is not ours, unless upgrading. Each file is read once.
  const ours = manifest?.files ?? {};
  const current = new Map(wanted.map((f) => [f.path, readBytes(join(root, f.path))]));
  const foreign = wanted.filter((f) => current.get(f.path) !== undefined && !(f.path in ours) && !sameAs(f, current.get(f.path))).map((f) => f.path);
  const ipsecD = join(root, nodePaths.ipsecD);
  const legacy = o.upgrade
    ? (existsSync(ipsecD) ? readdirSync(ipsecD) : [])
        .filter((n) => n.startsWith(FILE_PREFIX))
        .map((n) => `${nodePaths.ipsecD}/${n}`)
        .filter((p) => !desiredPaths.has(p) && !(p in ours) && statSync(join(root, p)).isFile())
    : [];
  if (foreign.length && !o.upgrade) {
    throw new InputError(`${foreign.join(', ')} exist(s) under ${root} and was not written by tripleo-ipsec; rerun with --upgrade to replace`);
  }

  // 3. Files: write what changed, remove what we wrote earlier and no longer want.
  const changedFiles = new Set<string>();
  for (const f of wanted) {
    const p = join(root, f.path);
    const have = current.get(f.path);
    if (sameAs(f, have) && (statSync(p).mode & 0o777) === f.mode) continue;
    replaceFileAtomically(p, f.bytes ?? f.content, f.mode);
    changedFiles.add(f.path);
    report.changes.push(`${have === undefined ? 'wrote' : 'updated'} ${f.path}`);
  }
  for (const p of [...Object.keys(ours).filter((x) => !desiredPaths.has(x)), ...legacy]) {
    rmSync(join(root, p), { force: true });
    changedFiles.add(p);
    report.changes.push(`removed ${p}`);
  }

  // 3b. Certificates: import into pluto's NSS database when the bundle changed (or was never imported).
  const p12 = all.find((f) => f.path === `${nodePaths.stateDir}/${certNames.p12(o.host)}`);
  if (p12 && (changedFiles.has(p12.path) || !manifest?.files[p12.path])) {
    const nssdir = o.nssdir ?? nodePaths.nssDir;
    const c = { what: `importing the certificate into ${nssdir}`, argv: ['bash', join(root, nodePaths.stateDir, certNames.importScript), nssdir], timeoutMs: 120_000 };
    const x = await runCommand(c);
    if (x.exitCode !== 0) throw new EnvironmentError(`${c.what} failed: ${(x.stderr || x.stdout).trim().split('\n').slice(-1)[0]}`);
    report.changes.push(`imported ${certNames.p12(o.host)} and the cluster CA into ${nssdir}`);
  }

  // 4. ipsec.conf / ipsec.secrets include our files (and uniqueids=yes).
  const confPath = join(root, nodePaths.ipsecConf);
  const secretsPath = join(root, nodePaths.ipsecSecrets);
  const conf = readIf(confPath);
  const secrets = readIf(secretsPath);
  // Our conn files, and the holder files the agent links into RUN_DIR on the node holding each VIP.
  const runDir = join(root, RUN_DIR.slice(1));
  makeDirs(runDir, 0o700);
  const newConf = withOurConfSettings(conf ?? '', [join(ipsecD, '*.conf'), join(runDir, '*.conf')]);
  const newSecrets = withOurSecretsInclude(secrets ?? '', join(ipsecD, '*.secrets'));
  if (newConf !== conf) {
    replaceFileAtomically(confPath, newConf, conf === undefined ? 0o644 : statSync(confPath).mode & 0o777);
    report.changes.push(`${conf === undefined ? 'wrote' : 'edited'} ${nodePaths.ipsecConf}`);
  }
  if (newSecrets !== secrets) {
    replaceFileAtomically(secretsPath, newSecrets, 0o600);
    report.changes.push(`${secrets === undefined ? 'wrote' : 'edited'} ${nodePaths.ipsecSecrets}`);
  }

  // 5. pluto: the plan against what it has loaded (one status query), so a pluto that lost conns is repaired.
  const planned: WantedConn[] = nodePlan.conns.map(({ kind: _kind, ...c }) => ({ ...c, file: join(root, c.file) }));
  const digests: Record<string, string> = {};
  for (const w of planned) {
    const before = manifest?.conns?.[w.name];
    digests[w.name] = steps.includes(w.step) ? w.digest : before ?? w.digest;
  }
  // Without pluto, every key is what it will authenticate with when it starts.
  let keys: Record<string, string> = Object.fromEntries(planned.filter((w) => w.key).map((w) => [w.name, w.key!]));
  if (!report.plutoSkipped) {
    const secretsChanged = [...changedFiles].some((p) => p.endsWith('.secrets'));
    // Secrets first: a conn added or replaced below authenticates with the new keys.
    if (secretsChanged) report.pluto.push(await pluto.rereadSecrets());
    const status = await pluto.status();
    const changes = plutoChanges({
      planned,
      steps,
      status,
      previous: manifest?.conns,
      changedFiles: new Set([...changedFiles].map((p) => join(root, p))),
    });
    // Loads first. pluto's listen reloads every secret, and with certificates that can kill a
    // pluto signing an IKE_AUTH (docs/FACTS.md): only when a conn we loaded found no local
    // address (an address that appeared after pluto started), and before anything starts.
    const loads = changes.filter((c) => c.op === 'add' || c.op === 'replace');
    for (const c of loads) report.pluto.push(await runPlutoChange(pluto, c));
    if (loads.length) {
      const after = await pluto.status();
      if (loads.some((c) => after.conns.get(c.name)?.oriented === false)) report.pluto.push(await pluto.listen());
    }
    for (const c of changes.filter((x) => !loads.includes(x))) report.pluto.push(await runPlutoChange(pluto, c));
    // A rotated key: each tunnel this node initiates authenticates again, one by one (after step 1 everywhere).
    // What pluto holds now follows from the changes: no second status query.
    const loadedNow = new Set([...status.conns.keys(), ...loads.map((c) => c.name)]);
    for (const c of changes) if (c.op === 'delete') loadedNow.delete(c.name);
    const r = renewals({ planned, steps, previous: manifest?.keys, loaded: loadedNow, reloaded: new Set(loads.map((c) => c.name)) });
    keys = r.keys;
    report.pluto.push(...(await reauthenticate(pluto, r.renew)));
  }

  // 6. Firewall chain, when its file changed or the chain or its jump is missing.
  const firewall: Family[] = [];
  if (firewallOn && steps.includes(1)) {
    for (const family of [4, 6] as const) {
      const f = all.find((x) => x.path === `${nodePaths.firewallDir}/${fileNames.iptables(family)}`);
      if (!f) continue;
      firewall.push(family);
      const need = changedFiles.has(f.path) || (await chainRules(family)) === undefined || !(await jumpPresent(family));
      if (need) {
        await installChain(family, f.content);
        report.changes.push(`installed ${family === 4 ? 'iptables' : 'ip6tables'} chains TRIPLEO-IPSEC, TRIPLEO-IPSEC-OUT`);
      }
    }
  } else if (manifest) firewall.push(...manifest.firewall);

  // 7. Pacemaker, once per cluster, from the bootstrap node at step 3.
  const cluster = nodePlan.pacemaker;
  let pacemaker = manifest?.pacemaker ?? false;
  if (o.pacemaker && steps.includes(3) && cluster?.plan.resources.length && (o.bootstrapNode ?? cluster.hosts[0]) === o.host) {
    const p = await applyPlan(cluster.plan);
    report.changes.push(...p.changes.map((c) => `pacemaker: ${c}`));
    pacemaker = true;
  }

  // 8. The manifest: what we own now. Every wanted file now holds what we want; the other step's files are ours where they still match.
  const files: Record<string, string> = {};
  const inWanted = new Set(wanted.map((f) => f.path));
  for (const f of all) if (inWanted.has(f.path) || sameAs(f, readBytes(join(root, f.path)))) files[f.path] = sha(f.bytes ?? f.content);
  writeManifest(root, {
    version: 2,
    host: o.host,
    files,
    conns: digests,
    keys,
    createdConf: manifest?.createdConf ?? conf === undefined,
    createdSecrets: manifest?.createdSecrets ?? secrets === undefined,
    firewall,
    pacemaker,
  });
  return report;
}

async function uninstall(o: ApplyNodeOptions, root: string, manifest: Manifest | undefined, pluto: PlutoClient, report: ApplyNodeReport): Promise<ApplyNodeReport> {
  if (!manifest) {
    report.changes.push('nothing to uninstall: no manifest');
    return report;
  }
  // The node plan this node applied, read before its files (itself among them) are removed.
  const installedPlan = readIf(join(root, nodePaths.nodePlan));
  if (!report.plutoSkipped) {
    for (const name of [...(await pluto.status()).conns.keys()].filter((n) => isOurConn(n, manifest.conns)).sort()) {
      report.pluto.push(await pluto.delete(name));
    }
  }
  for (const p of Object.keys(manifest.files)) {
    if (existsSync(join(root, p))) {
      rmSync(join(root, p));
      report.changes.push(`removed ${p}`);
    }
  }
  for (const [path, created] of [[nodePaths.ipsecConf, manifest.createdConf], [nodePaths.ipsecSecrets, manifest.createdSecrets]] as const) {
    const full = join(root, path);
    const text = readIf(full);
    if (text === undefined) continue;
    if (created) {
      rmSync(full);
      report.changes.push(`removed ${path}`);
    } else {
      const restored = withoutOurSettings(text);
      if (restored !== text) {
        replaceFileAtomically(full, restored, statSync(full).mode & 0o777);
        report.changes.push(`restored ${path}`);
      }
    }
  }
  if (!report.plutoSkipped) report.pluto.push(await pluto.rereadSecrets());
  for (const f of manifest.firewall) if (await removeChain(f)) report.changes.push(`removed ${f === 4 ? 'iptables' : 'ip6tables'} chains TRIPLEO-IPSEC, TRIPLEO-IPSEC-OUT`);
  if (manifest.pacemaker && o.pacemaker) {
    // The plan this node applied, as installed; else what the inputs give now.
    const plan = (installedPlan !== undefined ? parseNodePlan(installedPlan, join(root, nodePaths.nodePlan)) : desiredState(o, root).nodePlan).pacemaker?.plan;
    if (!plan) throw new InputError(`${join(root, nodePaths.nodePlan)}: no Pacemaker plan in it, though this node applied one: remove the cluster's tripleo-ipsec resources with tripleo-ipsec pacemaker remove`);
    const p = await removePlan(plan);
    report.changes.push(...p.changes.map((c) => `pacemaker: ${c}`));
  }
  rmSync(join(root, nodePaths.manifest), { force: true });
  // Directories we made, if they are now empty (never the operator's).
  for (const d of [nodePaths.firewallDir, nodePaths.stateDir, `${nodePaths.ipsecD}/${VIP_HOLDER_DIR}`, RUN_DIR.slice(1)]) {
    try {
      rmdirSync(join(root, d));
    } catch {
      /* not empty or not there */
    }
  }
  return report;
}
