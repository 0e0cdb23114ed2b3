// What Pacemaker needs for every VIP that has a tunnel (pure):
//   tripleo-ipsec-<vip>           ocf:tripleo:ipsec, role tunnel, colocated with
//                                 the VIP and ordered after it. The default
//                                 symmetrical order also stops the tunnel
//                                 before the VIP, so the old holder deletes the
//                                 conn (peers get an IKE Delete) while it still
//                                 has the VIP: FACTS.md measured re-initiation
//                                 within seconds that way, 90 s and more without.
//   tripleo-ipsec-<vip>-fallback  the same agent, role fallback, cloned and
//                                 anti-colocated with the VIP: Pacemaker itself
//                                 brings the node-to-VIP conn up on every
//                                 cluster node but the holder, only after the
//                                 VIP has left (it starts after the tunnel
//                                 started on the new holder, and restarts
//                                 whenever the tunnel moves).
import type { Overcloud } from '../model/types.js';
import { connNames, pacemakerNames } from '../model/names.js';

export interface PcmkResource {
  id: string;
  agent: string;
  params: Record<string, string>;
  /** monitor interval in seconds */
  monitorInterval: number;
  clone: boolean;
}

export type PcmkConstraint =
  | { kind: 'colocation'; id: string; rsc: string; withRsc: string; score: string }
  | { kind: 'order'; id: string; first: string; firstAction: 'start' | 'stop'; then: string; thenAction: 'start' | 'stop'; orderKind: 'Mandatory' | 'Optional'; symmetrical: boolean };

export interface PacemakerPlan {
  /** Resources that must exist beforehand (the VIPs' IPaddr2 resources), by VIP name. */
  vipResources: Record<string, string>;
  resources: PcmkResource[];
  constraints: PcmkConstraint[];
}

export const AGENT = 'ocf:tripleo:ipsec';
export const MONITOR_INTERVAL_S = 10;

export function cloneId(resourceId: string): string {
  return `${resourceId}-clone`;
}

export function planPacemaker(o: Overcloud, vipResourceOverrides: Record<string, string> = {}): PacemakerPlan {
  const plan: PacemakerPlan = { vipResources: {}, resources: [], constraints: [] };
  if (!o.nodes.some((n) => n.pacemaker)) return plan;
  for (const v of o.vips) {
    const vipRsc = vipResourceOverrides[v.name] ?? pacemakerNames.vipResource(v.address);
    const tunnel = pacemakerNames.tunnelResource(v.name);
    const fallback = pacemakerNames.fallbackResource(v.name);
    const fallbackClone = cloneId(fallback);
    plan.vipResources[v.name] = vipRsc;
    plan.resources.push(
      {
        id: tunnel,
        agent: AGENT,
        params: { tunnel: connNames.vipResponder(v.name), vip: v.address, fallbacktunnel: connNames.nodeToVip(v.name) },
        monitorInterval: MONITOR_INTERVAL_S,
        clone: false,
      },
      {
        id: fallback,
        agent: AGENT,
        params: { tunnel: connNames.nodeToVip(v.name), vip: v.address, role: 'fallback' },
        monitorInterval: MONITOR_INTERVAL_S,
        clone: true,
      },
    );
    plan.constraints.push(
      { kind: 'colocation', id: `colocation-${tunnel}-with-vip`, rsc: tunnel, withRsc: vipRsc, score: 'INFINITY' },
      { kind: 'order', id: `order-${tunnel}-after-vip`, first: vipRsc, firstAction: 'start', then: tunnel, thenAction: 'start', orderKind: 'Mandatory', symmetrical: true },
      { kind: 'colocation', id: `colocation-${fallback}-not-with-vip`, rsc: fallbackClone, withRsc: vipRsc, score: '-INFINITY' },
      // Mandatory: when the tunnel moves, every fallback instance restarts and re-initiates to the
      // new holder, rather than relying on having received the old holder's IKE Delete (which a
      // crashed holder never sends).
      { kind: 'order', id: `order-${fallback}-after-tunnel`, first: tunnel, firstAction: 'start', then: fallbackClone, thenAction: 'start', orderKind: 'Mandatory', symmetrical: true },
    );
  }
  return plan;
}
