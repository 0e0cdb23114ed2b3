// What a deploy step runs on one node: that node's files in place (only what
// changed, atomically, with the right modes), ipsec.conf/ipsec.secrets
// including them, pluto told only what changed, the firewall chain, and on
// the bootstrap node the Pacemaker plan. A manifest records what we created,
// so a second run changes nothing and --uninstall removes exactly that.
import { createHash } from 'node:crypto';
import { execa } from 'execa';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, rmdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { generate, type GenerateOptions } from '../generate.js';
import { EnvironmentError, InputError } from '../model/errors.js';
import { RUN_DIR, VIP_HOLDER_DIR } from '../model/names.js';
import type { OutputFile } from '../model/types.js';
import { FIREWALL_DIR, IPSEC_D } from '../render/hostTree.js';
import { replaceFileAtomically } from '../output/atomicTree.js';
import { withOurConfSettings, withOurSecretsInclude, withoutOurSettings } from './ipsecConf.js';
import { connLoaded, plutoActions, plutoRunning, run, type PlutoAction, type PlutoTarget } from './pluto.js';
import { chainRules, installChain, jumpPresent, removeChain, type Family } from './firewall.js';
import { applyPlan, removePlan } from '../pacemaker/apply.js';

export const MANIFEST = 'var/lib/tripleo-ipsec/manifest.json';

export interface ApplyNodeOptions extends Omit<GenerateOptions, 'hosts' | 'outDir'> {
  host: string;
  root: string;
  step?: 1 | 3;
  uninstall: boolean;
  upgrade: boolean;
  ctlsocket: string;
  /** Apply the Pacemaker plan when this node is the bootstrap node (step 3 or no step). */
  pacemaker: boolean;
  /** Bootstrap node name; default: the inventory's pacemaker_short_bootstrap_node_name or the first pacemaker node. */
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

interface Manifest {
  version: 1;
  host: string;
  /** path relative to root -> sha256 of what we wrote */
  files: Record<string, string>;
  createdConf: boolean;
  createdSecrets: boolean;
  firewall: Family[];
  pacemaker: boolean;
}

const sha = (s: string | Buffer) => createHash('sha256').update(s).digest('hex');

function readBytes(path: string): Buffer | undefined {
  try {
    return readFileSync(path);
  } catch {
    return undefined;
  }
}

/** Whether a file's bytes are exactly what we would write. */
function sameAs(f: OutputFile, have: Buffer | undefined): boolean {
  return have !== undefined && have.equals(f.bytes ?? Buffer.from(f.content, 'utf8'));
}

function readIf(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

/** conn name -> its block's text (for telling which conns a file change touches). */
export function connBlocks(text: string | undefined): Map<string, string> {
  const out = new Map<string, string>();
  if (!text) return out;
  let name: string | undefined;
  let body: string[] = [];
  const flush = () => {
    if (name) out.set(name, body.join('\n').trim());
  };
  for (const line of text.split('\n')) {
    const m = /^conn\s+(\S+)\s*$/.exec(line);
    if (m) {
      flush();
      name = m[1];
      body = [];
    } else if (name && /^\s/.test(line)) body.push(line.trim());
    else if (name && line.trim() !== '' && !line.startsWith('#')) {
      flush();
      name = undefined;
    }
  }
  flush();
  return out;
}

const autoOf = (block: string) => /(?:^|\n)auto=(\S+)/.exec(block)?.[1] ?? 'ignore';

function readManifest(root: string): Manifest | undefined {
  const t = readIf(join(root, MANIFEST));
  return t ? (JSON.parse(t) as Manifest) : undefined;
}

function bootstrapOf(o: ApplyNodeOptions, pacemakerHosts: string[]): string | undefined {
  return o.bootstrapNode ?? [...pacemakerHosts].sort()[0];
}

export async function applyNode(o: ApplyNodeOptions): Promise<ApplyNodeReport> {
  const root = resolve(o.root);
  const target: PlutoTarget = { ctlsocket: o.ctlsocket };
  const report: ApplyNodeReport = { changes: [], pluto: [], plutoSkipped: !plutoRunning(target) };
  const manifest = readManifest(root);
  if (o.uninstall) return uninstall(o, root, manifest, target, report);

  // 1. Everything this node should have, validated before anything is touched.
  const r = generate({ ...o, hosts: [o.host], outDir: join(root, 'var/lib/tripleo-ipsec') });
  if (r.psk !== 'given' && !r.overcloud.vars.use_opportunistic_ipsec) {
    throw new InputError('apply needs ipsec_psk from an environment (every node must hold the same key): pass the file generate or heat-env wrote with -e');
  }
  const all: OutputFile[] = [];
  for (const f of r.eachFile()) if (f.path.startsWith(`${o.host}/`)) all.push({ ...f, path: f.path.slice(o.host.length + 1) });
  const isVip = (p: string) => /-vip(?:-tunnel)?\.(conf|secrets)$/.test(p);
  const inStep = (p: string) => o.step === undefined || (o.step === 3 ? isVip(p) : !isVip(p));
  const wanted = all.filter((f) => inStep(f.path));
  const desiredPaths = new Set(all.map((f) => f.path));
  const firewallOn = !r.overcloud.vars.ipsec_skip_firewall_rules;

  // 2. Refuse to overwrite what is not ours, unless upgrading. Each file is read once.
  const ours = manifest?.files ?? {};
  const current = new Map(wanted.map((f) => [f.path, readBytes(join(root, f.path))]));
  const foreign = wanted.filter((f) => current.get(f.path) !== undefined && !(f.path in ours) && !sameAs(f, current.get(f.path))).map((f) => f.path);
  const legacy = o.upgrade
    ? (existsSync(join(root, IPSEC_D)) ? readdirSync(join(root, IPSEC_D)) : [])
        .filter((n) => n.startsWith('overcloud-') && !desiredPaths.has(`${IPSEC_D}/${n}`) && !(`${IPSEC_D}/${n}` in ours))
        .map((n) => `${IPSEC_D}/${n}`)
        .filter((p) => statSync(join(root, p)).isFile())
    : [];
  if (foreign.length && !o.upgrade) {
    throw new InputError(`${foreign.join(', ')} exist(s) under ${root} and was not written by tripleo-ipsec; rerun with --upgrade to replace`);
  }

  // 3. Files: write what changed, remove what we wrote earlier and no longer want.
  const oldText = new Map<string, string | undefined>();
  const changedFiles: string[] = [];
  for (const f of wanted) {
    const p = join(root, f.path);
    const have = current.get(f.path);
    if (sameAs(f, have) && (statSync(p).mode & 0o777) === f.mode) continue;
    oldText.set(f.path, have?.toString('utf8'));
    replaceFileAtomically(p, f.bytes ?? f.content, f.mode);
    changedFiles.push(f.path);
    report.changes.push(`${have === undefined ? 'wrote' : 'updated'} ${f.path}`);
  }
  const stale = [...Object.keys(ours).filter((p) => !desiredPaths.has(p)), ...legacy];
  for (const p of stale) {
    oldText.set(p, readIf(join(root, p)));
    rmSync(join(root, p), { force: true });
    changedFiles.push(p);
    report.changes.push(`removed ${p}`);
  }

  // 3b. Certificates: import into pluto's NSS database when the bundle changed (or was never imported).
  const p12 = all.find((f) => f.path.endsWith('.p12'));
  if (p12 && (changedFiles.includes(p12.path) || !manifest?.files[p12.path])) {
    const nssdir = o.nssdir ?? '/var/lib/ipsec/nss';
    const r = await execa('bash', [join(root, 'var/lib/tripleo-ipsec/import-certs.sh'), nssdir], { reject: false, timeout: 120_000 });
    if (r.exitCode !== 0) throw new EnvironmentError(`importing the certificate into ${nssdir} failed: ${(r.stderr || r.stdout).trim().split('\n').slice(-1)[0]}`);
    report.changes.push(`imported ${p12.path.split('/').pop()} and the cluster CA into ${nssdir}`);
  }

  // 4. ipsec.conf / ipsec.secrets include our files (and uniqueids=yes).
  const confPath = join(root, 'etc/ipsec.conf');
  const secretsPath = join(root, 'etc/ipsec.secrets');
  const conf = readIf(confPath);
  const secrets = readIf(secretsPath);
  // Our conn files, and the holder files the agent links into RUN_DIR on the node holding each VIP.
  const runDir = join(root, RUN_DIR.slice(1));
  mkdirSync(runDir, { recursive: true, mode: 0o700 });
  const newConf = withOurConfSettings(conf ?? '', [join(root, IPSEC_D, '*.conf'), join(runDir, '*.conf')]);
  const newSecrets = withOurSecretsInclude(secrets ?? '', join(root, IPSEC_D, '*.secrets'));
  if (newConf !== conf) {
    replaceFileAtomically(confPath, newConf, conf === undefined ? 0o644 : statSync(confPath).mode & 0o777);
    report.changes.push(`${conf === undefined ? 'wrote' : 'edited'} etc/ipsec.conf`);
  }
  if (newSecrets !== secrets) {
    replaceFileAtomically(secretsPath, newSecrets, 0o600);
    report.changes.push(`${secrets === undefined ? 'wrote' : 'edited'} etc/ipsec.secrets`);
  }

  // 5. pluto: only what changed.
  if (!report.plutoSkipped && changedFiles.length) {
    const actions: PlutoAction[] = [plutoActions.listen(target)];
    let secretsChanged = false;
    for (const p of changedFiles) {
      if (p.endsWith('.secrets')) secretsChanged = true;
      if (!p.endsWith('.conf') || !p.startsWith(`${IPSEC_D}/`)) continue;
      const before = connBlocks(oldText.get(p));
      const after = connBlocks(wanted.find((f) => f.path === p)?.content);
      // A holder file's conns are the agent's: loaded only where the VIP is, so replaced (and restarted) only there.
      const holder = p.startsWith(`${IPSEC_D}/${VIP_HOLDER_DIR}/`);
      for (const [name, block] of after) {
        if (before.get(name) === block) continue;
        if (holder) {
          if (await connLoaded(target, name)) actions.push(plutoActions.replace(target, join(root, p), name), plutoActions.up(target, name));
          continue;
        }
        const auto = autoOf(block);
        const loaded = await connLoaded(target, name);
        if (loaded) actions.push(plutoActions.replace(target, join(root, p), name));
        else if (auto !== 'ignore') actions.push(plutoActions.add(target, join(root, p), name));
        if (auto === 'start') actions.push(plutoActions.up(target, name));
        if (auto === 'ondemand' || auto === 'route') actions.push(plutoActions.route(target, name));
      }
      for (const name of before.keys()) {
        if (!after.has(name) && (await connLoaded(target, name))) actions.push(plutoActions.delete(target, name));
      }
    }
    if (secretsChanged) actions.push(plutoActions.rereadSecrets(target));
    for (const a of actions) {
      await run(a);
      report.pluto.push(a.what);
    }
  }

  // 6. Firewall chain, when its file changed or the chain or its jump is missing.
  const firewall: Family[] = [];
  if (firewallOn && (o.step === undefined || o.step === 1)) {
    for (const [family, file] of [[4, 'ipsec.iptables'], [6, 'ipsec.ip6tables']] as const) {
      const f = all.find((x) => x.path === `${FIREWALL_DIR}/${file}`);
      if (!f) continue;
      firewall.push(family);
      const need = changedFiles.includes(f.path) || (await chainRules(family)) === undefined || !(await jumpPresent(family));
      if (need) {
        await installChain(family, f.content);
        report.changes.push(`installed ${family === 4 ? 'iptables' : 'ip6tables'} chains TRIPLEO-IPSEC, TRIPLEO-IPSEC-OUT`);
      }
    }
  } else if (manifest) firewall.push(...manifest.firewall);

  // 7. Pacemaker, once per cluster, from the bootstrap node at step 3.
  const pacemakerHosts = r.overcloud.nodes.filter((n) => n.pacemaker).map((n) => n.name);
  let pacemaker = manifest?.pacemaker ?? false;
  if (o.pacemaker && (o.step === undefined || o.step === 3) && r.pacemaker.resources.length && bootstrapOf(o, pacemakerHosts) === o.host) {
    const p = await applyPlan(r.pacemaker);
    report.changes.push(...p.changes.map((c) => `pacemaker: ${c}`));
    pacemaker = true;
  }

  // 8. The manifest: what we own now.
  const files: Record<string, string> = {};
  // Every wanted file now holds what we want; the other step's files are ours where they still match.
  const inWanted = new Set(wanted.map((f) => f.path));
  for (const f of all) if (inWanted.has(f.path) || sameAs(f, readBytes(join(root, f.path)))) files[f.path] = sha(f.bytes ?? f.content);
  const next: Manifest = {
    version: 1,
    host: o.host,
    files,
    createdConf: manifest?.createdConf ?? conf === undefined,
    createdSecrets: manifest?.createdSecrets ?? secrets === undefined,
    firewall,
    pacemaker,
  };
  const nextText = JSON.stringify(next, null, 2) + '\n';
  if (readIf(join(root, MANIFEST)) !== nextText) replaceFileAtomically(join(root, MANIFEST), nextText, 0o600);
  return report;
}

async function uninstall(o: ApplyNodeOptions, root: string, manifest: Manifest | undefined, target: PlutoTarget, report: ApplyNodeReport): Promise<ApplyNodeReport> {
  if (!manifest) {
    report.changes.push('nothing to uninstall: no manifest');
    return report;
  }
  if (!report.plutoSkipped) {
    for (const p of Object.keys(manifest.files).filter((x) => x.endsWith('.conf'))) {
      for (const name of connBlocks(readIf(join(root, p))).keys()) {
        if (await connLoaded(target, name)) {
          await run(plutoActions.delete(target, name));
          report.pluto.push(`delete ${name}`);
        }
      }
    }
  }
  for (const p of Object.keys(manifest.files)) {
    if (existsSync(join(root, p))) {
      rmSync(join(root, p));
      report.changes.push(`removed ${p}`);
    }
  }
  for (const [path, created] of [['etc/ipsec.conf', manifest.createdConf], ['etc/ipsec.secrets', manifest.createdSecrets]] as const) {
    const full = join(root, path);
    const text = readIf(full);
    if (text === undefined) continue;
    if (created) {
      rmSync(full);
      report.changes.push(`removed ${path}`);
    } else {
      const restored = withoutOurSettings(text);
      if (restored !== text) {
        const mode = statSync(full).mode & 0o777;
        replaceFileAtomically(full, restored, mode);
        report.changes.push(`restored ${path}`);
      }
    }
  }
  if (!report.plutoSkipped) {
    await run(plutoActions.rereadSecrets(target));
    report.pluto.push('reread secrets');
  }
  for (const f of manifest.firewall) if (await removeChain(f)) report.changes.push(`removed ${f === 4 ? 'iptables' : 'ip6tables'} chains TRIPLEO-IPSEC, TRIPLEO-IPSEC-OUT`);
  if (manifest.pacemaker && o.pacemaker) {
    const r = generate({ ...o, hosts: [o.host], outDir: join(root, 'var/lib/tripleo-ipsec') });
    const p = await removePlan(r.pacemaker);
    report.changes.push(...p.changes.map((c) => `pacemaker: ${c}`));
  }
  rmSync(join(root, MANIFEST), { force: true });
  // Directories we made, if they are now empty (never the operator's).
  for (const d of [FIREWALL_DIR, 'var/lib/tripleo-ipsec', `${IPSEC_D}/${VIP_HOLDER_DIR}`, RUN_DIR.slice(1)]) {
    try {
      rmdirSync(join(root, d));
    } catch {
      /* not empty or not there */
    }
  }
  return report;
}
