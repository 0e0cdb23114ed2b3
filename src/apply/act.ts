// apply's last stage: carry out a decision through the node's environment,
// in order, after recording the journal (what the run may come to own), and
// record the final manifest once every change is made. What each change did
// is reported in one line, as the operator reads it.
import { join } from 'node:path';
import { nodePaths, RUN_DIR, VIP_HOLDER_DIR } from '../model/names.js';
import type { Change, Decision } from './decide.js';
import type { NodeEnv, NodePluto } from './nodeEnv.js';
import { WHACK_RC } from '../libreswan/whack.js';
import { IPTABLES_CHAINS } from '../render/firewall.js';
import { reauthenticate } from './rotation.js';

export interface ApplyReport {
  changes: string[];
  pluto: string[];
  /** pluto was not running: files only */
  plutoSkipped: boolean;
  /** An image being built (--root): files only, by design. */
  offline?: boolean;
}

/** Where temporary files of ours can be left by a killed run, and which names are ours there. */
const TEMPORARY_PLACES: [string, (name: string) => boolean][] = [
  ['etc', (n) => n === 'ipsec.conf' || n === 'ipsec.secrets'],
  [nodePaths.ipsecD, () => true],
  [`${nodePaths.ipsecD}/${VIP_HOLDER_DIR}`, () => true],
  [nodePaths.policies, () => true],
  [nodePaths.firewallDir, () => true],
  [nodePaths.stateDir, () => true],
];

const VERB = { add: 'add', replace: 'replace', initiate: 'up', route: 'route', delete: 'delete' } as const;

/** One line per conn for the few a repair touches; one line per batch for a node's hundreds. */
function reported(op: keyof typeof VERB, names: string[], how: string): string[] {
  if (names.length <= 20) return names.map((n) => `${VERB[op]} ${n}`);
  return [`${VERB[op]} ${names.length} conns ${how}`];
}

async function runPlutoBatch(pluto: NodePluto, root: string, c: Extract<Change, { do: 'pluto' }>): Promise<string[]> {
  switch (c.op) {
    case 'replace':
      // Deleted first: their SAs go with them, and the new definition is what authenticates.
      await pluto.eachConn('delete', ['--delete'], c.names, [WHACK_RC.NO_CONNECTION]);
      await pluto.addMany(join(root, c.file), c.names);
      return reported('replace', c.names, `from ${c.file}`);
    case 'add':
      await pluto.addMany(join(root, c.file), c.names);
      return reported('add', c.names, `from ${c.file}`);
    case 'initiate':
      if (c.alias) await pluto.alias('up', c.alias, ['--initiate', '--asynchronous']);
      else await pluto.eachConn('up', ['--initiate', '--asynchronous'], c.names);
      return reported('initiate', c.names, c.alias ? `(connalias ${c.alias})` : '');
    case 'route':
      if (c.alias) await pluto.alias('route', c.alias, ['--route']);
      else await pluto.eachConn('route', ['--route'], c.names);
      return reported('route', c.names, c.alias ? `(connalias ${c.alias})` : '');
    case 'delete':
      await pluto.eachConn('delete', ['--delete'], c.names, [WHACK_RC.NO_CONNECTION]);
      return reported('delete', c.names, '');
  }
}

const FAMILY_TOOL = { 4: 'iptables', 6: 'ip6tables' } as const;

async function carryOutOne(c: Change, env: NodeEnv, report: ApplyReport): Promise<void> {
  const { files, pluto } = env;
  switch (c.do) {
    case 'write':
      files.write(c.path, c.content, c.mode);
      report.changes.push(`${c.existed ? 'updated' : 'wrote'} ${c.path}`);
      return;
    case 'remove':
      if (files.read(c.path) === undefined && !files.isRegularFile(c.path)) return;
      files.remove(c.path);
      report.changes.push(`removed ${c.path}`);
      return;
    case 'import-certificates':
      report.changes.push(`imported ${c.p12} and the cluster CA into ${await env.importCertificates(c.script)}`);
      return;
    case 'edit':
      files.write(c.path, c.text, c.mode);
      report.changes.push(`${c.created ? 'wrote' : 'edited'} ${c.path}`);
      return;
    case 'restore':
      files.write(c.path, c.text, c.mode);
      report.changes.push(`restored ${c.path}`);
      return;
    case 'make-run-dir':
      files.makeDir(RUN_DIR.slice(1), 0o700);
      return;
    case 'reread-secrets':
      if (pluto) report.pluto.push(await pluto.rereadSecrets());
      return;
    case 'pluto':
      if (pluto) report.pluto.push(...(await runPlutoBatch(pluto, files.root, c)));
      return;
    case 'listen-if-unoriented': {
      if (!pluto) return;
      const after = await pluto.status();
      if (c.conns.some((n) => after.conns.get(n)?.oriented === false)) report.pluto.push(await pluto.listen());
      return;
    }
    case 'reauthenticate':
      if (pluto) report.pluto.push(...(await reauthenticate(pluto, c.conns)));
      return;
    case 'install-firewall':
      await env.firewall.install(c.family, c.fragment);
      report.changes.push(`installed ${FAMILY_TOOL[c.family]} chains ${IPTABLES_CHAINS.join(', ')}`);
      return;
    case 'remove-firewall':
      if (await env.firewall.remove(c.family)) report.changes.push(`removed ${FAMILY_TOOL[c.family]} chains ${IPTABLES_CHAINS.join(', ')}`);
      return;
    case 'apply-pacemaker':
      report.changes.push(...(await env.pacemaker.apply(c.plan, { replaceRoleResources: c.replaceRoleResources })).changes.map((x) => `pacemaker: ${x}`));
      return;
    case 'remove-pacemaker':
      report.changes.push(...(await env.pacemaker.remove(c.plan)).changes.map((x) => `pacemaker: ${x}`));
      return;
    case 'remove-dir-if-empty':
      files.removeDirIfEmpty(c.path);
      return;
  }
}

/**
 * Carry out `d`: leftovers of killed runs swept, the journal recorded, each
 * change made in order, the final manifest recorded (or, for an uninstall,
 * the manifest removed). A change that fails leaves the journal: the next
 * run, or an uninstall, knows everything this one may have made.
 */
export async function carryOut(d: Decision, env: NodeEnv): Promise<ApplyReport> {
  const report: ApplyReport = { changes: [], pluto: [], plutoSkipped: env.live && env.pluto === undefined, ...(env.live ? {} : { offline: true }) };
  for (const [dir, ours] of TEMPORARY_PLACES) {
    for (const p of env.files.sweepTemporary(dir, ours)) report.changes.push(`removed ${p} (left by an interrupted run)`);
  }
  // A run with nothing to do records no journal (a second run leaves even the manifest's mtime alone).
  if (d.changes.some((c) => c.do !== 'make-run-dir' && c.do !== 'remove-dir-if-empty')) env.files.writeManifest(d.journal);
  for (const c of d.changes) await carryOutOne(c, env, report);
  if (d.final) env.files.writeManifest(d.final);
  else {
    env.files.remove(nodePaths.manifest);
    env.files.removeDirIfEmpty(nodePaths.stateDir);
  }
  return report;
}

