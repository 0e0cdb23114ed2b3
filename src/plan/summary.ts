// What a run plans for each host, counted from the plan (never from the
// files as they are written), and the run's summary.json: no secret in it.
import type { IpsecVars, Overcloud } from '../model/types.js';
import type { HostPlan } from './tunnels.js';

export interface HostSummary {
  host: string;
  role: string;
  pacemaker: boolean;
  nodeToNode: number;
  /** this node's ends of VIP tunnels (one per VIP on its networks) */
  vipTunnels: number;
  /** VIP ends towards peers, started only while this node holds the VIP */
  vipHolderEnds: number;
  opportunistic: number;
  files: number;
}

export function summarizeHost(plan: HostPlan, files: number): HostSummary {
  const count = { 'node-to-node': 0, 'vip-end': 0, 'vip-holder': 0, opportunistic: 0, clear: 0 };
  for (const f of plan.files) for (const c of f.conns) count[c.kind]++;
  const n = plan.node;
  return {
    host: n.name,
    role: n.role,
    pacemaker: n.pacemaker,
    nodeToNode: count['node-to-node'],
    vipTunnels: count['vip-end'],
    vipHolderEnds: count['vip-holder'],
    opportunistic: count.opportunistic + count.clear,
    files,
  };
}

/** Everything about a run an operator or a script may want, and no secret. */
export function summaryJson(o: Overcloud, hosts: HostSummary[]) {
  const { ipsec_psk: _secret, ...vars } = o.vars as IpsecVars;
  return { networks: o.networks, vips: o.vips, vars, hosts, notes: o.notes };
}
