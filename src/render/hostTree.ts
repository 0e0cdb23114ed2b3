// All files of one host, as they will sit under the node's root. The layout
// (which files, where, with which mode) comes from the plan alone and is
// cheap; each file's content is rendered only when it is consumed, so a
// summary can count files without rendering them.
import type { HostCertificate, OutputFile } from '../model/types.js';
import type { ConnFile, HostPlan } from '../plan/tunnels.js';
import { renderConf, renderPolicy, renderSecrets } from './libreswan.js';
import { renderIptables, renderNftables } from './firewall.js';
import { certNames, fileNames, nodePaths } from '../model/names.js';
import { importScript } from './importScript.js';
import { buildNodePlan, serializeNodePlan, type NodePlan } from '../plan/nodePlan.js';
import type { DeployStep } from '../plan/tunnels.js';

export interface HostTreeOptions {
  firewall: boolean;
  /** ipsec_auth=cert: this host's certificate files (made or kept at the key material stage). */
  certificate?: HostCertificate;
  /** On cluster nodes: the cluster's nodes and the Pacemaker plan, for the node plan. */
  pacemaker?: NodePlan['pacemaker'];
  /** The role's switches, carried to apply by the node plan. */
  uninstall?: boolean;
  upgrade?: boolean;
}

export interface PlannedFile {
  path: string;
  mode: number;
  content: () => string | Buffer;
}

/** Where a conn file of the plan sits on the node. */
export function confPathOf(f: ConnFile): string {
  return `${nodePaths.ipsecD}/${f.confName}`;
}

function secretsPathOf(f: ConnFile): string | undefined {
  return f.secretsName && f.secrets.length ? `${nodePaths.ipsecD}/${f.secretsName}` : undefined;
}

function once<T>(fn: () => T): () => T {
  let v: { value: T } | undefined;
  return () => (v ??= { value: fn() }).value;
}

export interface HostTree {
  /** Every file of the host's tree, the node plan last (it lists the others with their digests). */
  files: PlannedFile[];
  /** The node plan as a value (what the node plan file holds), for apply on the node itself. */
  nodePlan: () => NodePlan;
}

/** A host's tree: which files, where, with which mode; each rendered when consumed. */
export function hostTree(plan: HostPlan, opts: HostTreeOptions): HostTree {
  const files: (PlannedFile & { step: DeployStep })[] = [];
  for (const f of plan.files) {
    if (f.conns.length) files.push({ path: confPathOf(f), mode: 0o640, step: f.step, content: once(() => renderConf(f)) });
    const secrets = secretsPathOf(f);
    // Every key is installed at step 1, VIP keys too: pluto's secrets reload at step 3, with the
    // mesh negotiating, could kill a pluto signing with a certificate (docs/FACTS.md).
    if (secrets) files.push({ path: secrets, mode: 0o600, step: 1, content: once(() => renderSecrets(f)) });
  }
  for (const p of plan.policies) files.push({ path: `${nodePaths.policies}/${p.name}`, mode: 0o640, step: 1, content: once(() => renderPolicy(p)) });
  if (opts.firewall && plan.firewallSources.length) {
    for (const family of [4, 6] as const) {
      if (plan.firewallSources.some((s) => s.family === family)) {
        files.push({ path: `${nodePaths.firewallDir}/${fileNames.iptables(family)}`, mode: 0o640, step: 1, content: once(() => renderIptables(plan, family)) });
      }
    }
    files.push({ path: `${nodePaths.firewallDir}/${fileNames.nftables}`, mode: 0o640, step: 1, content: once(() => renderNftables(plan)) });
  }
  if (opts.certificate) {
    const cert = opts.certificate;
    const dir = nodePaths.stateDir;
    const host = plan.node.name;
    files.push(
      { path: `${dir}/${certNames.p12(host)}`, mode: 0o600, step: 1, content: () => cert.p12 },
      { path: `${dir}/${certNames.cert(host)}`, mode: 0o644, step: 1, content: () => cert.certPem },
      { path: `${dir}/${certNames.caCert}`, mode: 0o644, step: 1, content: () => cert.caCertPem },
      { path: `${dir}/${certNames.importScript}`, mode: 0o700, step: 1, content: () => importScript(cert.nickname, certNames.p12(host), certNames.caCert) },
    );
  }
  files.sort((a, b) => (a.path < b.path ? -1 : 1));
  const nodePlan = once(() =>
    buildNodePlan({
      plan,
      files: files.map((f) => ({ path: f.path, mode: f.mode, step: f.step, content: f.content() })),
      confPathOf,
      firewall: opts.firewall,
      ...(opts.pacemaker ? { pacemaker: opts.pacemaker } : {}),
      uninstall: opts.uninstall,
      upgrade: opts.upgrade,
    }),
  );
  // 0600: it lists every file's digest, a secrets file's too (an offline check of a guessed PSK).
  return { files: [...files, { path: nodePaths.nodePlan, mode: 0o600, content: () => serializeNodePlan(nodePlan()) }], nodePlan };
}

export function materialize(f: PlannedFile): OutputFile {
  const c = f.content();
  return typeof c === 'string' ? { path: f.path, mode: f.mode, content: c } : { path: f.path, mode: f.mode, content: '', bytes: c };
}
