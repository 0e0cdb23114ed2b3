// All files of one host, as they will sit under the node's root.
import type { OutputFile } from '../model/types.js';
import type { HostPlan } from '../plan/tunnels.js';
import { renderConf, renderPolicy, renderSecrets } from './libreswan.js';
import { renderIptables, renderNftables } from './firewall.js';

export const IPSEC_D = 'etc/ipsec.d';
export const FIREWALL_DIR = 'etc/tripleo-ipsec';

export function renderHostFiles(plan: HostPlan, opts: { firewall: boolean }): OutputFile[] {
  const files: OutputFile[] = [];
  for (const f of plan.files) {
    if (f.conns.length) files.push({ path: `${IPSEC_D}/${f.confName}`, mode: 0o640, content: renderConf(f) });
    if (f.secretsName && f.secrets.length) {
      files.push({ path: `${IPSEC_D}/${f.secretsName}`, mode: 0o600, content: renderSecrets(f) });
    }
  }
  for (const p of plan.policies) files.push({ path: `${IPSEC_D}/policies/${p.name}`, mode: 0o640, content: renderPolicy(p) });
  if (opts.firewall && plan.firewallSources.length) {
    if (plan.firewallSources.some((s) => s.family === 4)) {
      files.push({ path: `${FIREWALL_DIR}/ipsec.iptables`, mode: 0o640, content: renderIptables(plan, 4) });
    }
    if (plan.firewallSources.some((s) => s.family === 6)) {
      files.push({ path: `${FIREWALL_DIR}/ipsec.ip6tables`, mode: 0o640, content: renderIptables(plan, 6) });
    }
    files.push({ path: `${FIREWALL_DIR}/ipsec.nft`, mode: 0o640, content: renderNftables(plan) });
  }
  return files.sort((a, b) => (a.path < b.path ? -1 : 1));
}
