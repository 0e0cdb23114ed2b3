// What Pacemaker needs for every VIP that has a tunnel (pure):
//   tripleo-ipsec-<vip>   ocf:tripleo:ipsec, colocated with the VIP and
//                         ordered after it: where the VIP starts, the agent
//                         starts the VIP's end towards every peer. The
//                         default symmetrical order also stops it before the
//                         VIP, so the old holder's IKE Deletes go out first.
// Nothing runs on the other nodes: their end of the tunnel is loaded by
// apply and pluto itself, so standby, cluster stop or maintenance there
// changes nothing for it.
import type { Overcloud } from '../model/types.js';
import { connNames, pacemakerNames } from '../model/names.js';

export interface PcmkResource {
  id: string;
  agent: string;
  params: Record<string, string>;
  /** monitor interval in seconds */
  monitorInterval: number;
  /** The start operation's timeout, in seconds (startTimeoutFor). */
  startTimeout: number;
  /** Meta attributes: failure-timeout, so a start that failed is retried without an operator. */
  meta: Record<string, string>;
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
  /** Resources earlier versions created that this plan removes (with their constraints). */
  retired: string[];
  /** By VIP name: every node with an address on the VIP's network (each must hold a tunnel with the VIP's holder). */
  vipPeers: Record<string, string[]>;
}

export const AGENT = 'ocf:tripleo:ipsec';
const MONITOR_INTERVAL_S = 10;

/**
 * After a failed start (pluto busy or hung past the timeout), Pacemaker
 * bans the resource from the node, and since it is colocated with its VIP
 * it stays stopped while the VIP runs: with ipsec_policy private, every
 * peer's traffic to the VIP is then dropped. failure-timeout expires that
 * failure, and Pacemaker (2.0.3 and later schedules the recheck itself)
 * starts it again, without an operator.
 */
export const FAILURE_TIMEOUT = '60s';

/**
 * The start's timeout for a VIP with `peers` peers: the agent's start is
 * three round trips to pluto and one addconn of every end (2.4 ms an end
 * here, at 500 peers), so 30 s (a pluto busy with its own start-up answered
 * a round trip in 7-15 s in the data-plane guest) and 40 ms a peer, more
 * than ten times what an end costs here: 50 s at 500 peers, 70 s at 1,000.
 */
export function startTimeoutFor(peers: number): number {
  return 30 + Math.ceil((peers * 40) / 1000);
}

export function cloneId(resourceId: string): string {
  return `${resourceId}-clone`;
}

export function planPacemaker(o: Overcloud, vipResourceOverrides: Record<string, string> = {}): PacemakerPlan {
  // Opportunistic mode has no VIP tunnels (src/plan/tunnels.ts): nothing for Pacemaker to run.
  if (!o.nodes.some((n) => n.pacemaker) || o.vars.use_opportunistic_ipsec) return pacemakerPlanFor([]);
  return pacemakerPlanFor(
    o.vips.map((v) => ({
      name: v.name,
      address: v.address,
      vipResource: vipResourceOverrides[v.name] ?? pacemakerNames.vipResource(v.address),
      peers: o.nodes.filter((n) => n.addresses[v.network] !== undefined).map((n) => n.name),
    })),
  );
}

export interface PlannedVip {
  name: string;
  address: string;
  /** The VIP's own (IPaddr2) resource. */
  vipResource: string;
  /** Every node with an address on the VIP's network. */
  peers: string[];
}

/**
 * The whole plan from its VIPs alone: what generate writes, and what
 * `pacemaker apply` checks a plan file against (an edited plan, which could
 * name any resource to delete, is refused).
 */
export function pacemakerPlanFor(vips: PlannedVip[]): PacemakerPlan {
  const plan: PacemakerPlan = { vipResources: {}, resources: [], constraints: [], retired: [], vipPeers: {} };
  for (const v of vips) {
    const tunnel = pacemakerNames.tunnelResource(v.name);
    plan.vipResources[v.name] = v.vipResource;
    plan.resources.push({
      id: tunnel,
      agent: AGENT,
      params: { tunnel: connNames.vipTunnel(v.name), vip: v.address },
      monitorInterval: MONITOR_INTERVAL_S,
      // Every peer but the holder itself.
      startTimeout: startTimeoutFor(Math.max(0, v.peers.length - 1)),
      meta: { 'failure-timeout': FAILURE_TIMEOUT },
      clone: false,
    });
    plan.constraints.push(
      { kind: 'colocation', id: pacemakerNames.colocation(tunnel), rsc: tunnel, withRsc: v.vipResource, score: 'INFINITY' },
      { kind: 'order', id: pacemakerNames.order(tunnel), first: v.vipResource, firstAction: 'start', then: tunnel, thenAction: 'start', orderKind: 'Mandatory', symmetrical: true },
    );
    plan.retired.push(pacemakerNames.retiredFallbackResource(v.name));
    plan.vipPeers[v.name] = v.peers;
  }
  return plan;
}
