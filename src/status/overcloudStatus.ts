// `tripleo-ipsec status --inventory`: the TripleO guide's verification on
// every node at once. The same inputs and plan as generate and apply (no key
// material: nothing secret is needed or collected), one `whack --status` per
// node over SSH (thinned on the node), `crm_mon` on the first reachable cluster node to know where
// each VIP is, then each node's tunnels checked against its plan.
import { loadInputs, type InputOptions } from '../inputs/load.js';
import { ValidationError } from '../model/errors.js';
import { connNames } from '../model/names.js';
import type { Problem } from '../model/problems.js';
import { buildOvercloud } from '../model/overcloud.js';
import { parsePlutoStatus, type PlutoStatus } from '../libreswan/whackStatus.js';
import { parseCrmMon, type CrmMon } from '../pacemaker/crmMon.js';
import { planPacemaker } from '../plan/pacemaker.js';
import { planHost } from '../plan/tunnels.js';
import { readStatusAnswer, STATUS_COMMAND } from './statusCommand.js';
import { collectOverSsh, sshTargets, type CollectOptions, type SshTarget } from './sshCollect.js';
import { checkNode, describeProblem, expectedTunnels, type NodeCheck } from './tunnelCheck.js';

export interface OvercloudStatusOptions extends InputOptions, Omit<CollectOptions, 'onProgress'> {
  /** Only these hosts (all when empty). */
  hosts: string[];
  onProgress?: CollectOptions['onProgress'];
}

export type NodeReachability = 'ok' | 'unreachable' | 'no pluto' | 'unreadable';

export interface NodeStatus {
  node: string;
  reach: NodeReachability;
  /** Why it could not be read, in one line. */
  reason?: string;
  check?: NodeCheck;
}

export interface OvercloudReport {
  ok: boolean;
  nodes: NodeStatus[];
  /** VIP -> holder, and where that came from. */
  vips: { vip: string; address: string; holder?: string; from: 'crm_mon' | 'pluto' | 'unknown' }[];
  summary: { nodes: number; nodesOk: number; tunnelsExpected: number; tunnelsUp: number };
  problems: string[];
}

const CRM_MON_COMMAND = 'crm_mon -1 --output-as=xml';

function oneLine(s: string): string {
  return s.split('\n').map((l) => l.trim()).filter(Boolean).slice(-2).join('; ');
}

export async function overcloudStatus(o: OvercloudStatusOptions): Promise<OvercloudReport> {
  const inputs = loadInputs(o);
  const problems: Problem[] = [];
  const overcloud = buildOvercloud(inputs, problems);
  for (const h of o.hosts) if (overcloud && !overcloud.nodes.some((n) => n.name === h)) problems.push({ host: h, field: '--host', value: h, message: 'no such overcloud host in the inventory' });
  if (!overcloud || problems.length) throw new ValidationError(problems);
  const nodes = overcloud.nodes.filter((n) => o.hosts.length === 0 || o.hosts.includes(n.name));
  const targets = sshTargets(inputs.inventory, nodes.map((n) => n.name));

  // Where each VIP is, by Pacemaker's word: asked of the first cluster node during the round, in one session beside
  // the --forks ones (after the round it would add a session's latency to every call), of the others only if it did not answer.
  const cluster = targets.filter((t) => nodes.find((n) => n.name === t.host)?.pacemaker);
  const askPacemaker = async (t: SshTarget): Promise<CrmMon | undefined> => {
    const [r] = await collectOverSsh([t], () => CRM_MON_COMMAND, { ...o, onProgress: undefined });
    if (!r.stdout.trim().startsWith('<')) return undefined;
    try {
      return parseCrmMon(r.stdout);
    } catch {
      return undefined;
    }
  };
  const firstAnswer = cluster.length ? askPacemaker(cluster[0]) : Promise.resolve(undefined);

  // Each node's pluto, or why not, read as each answer arrives.
  const statuses = new Map<string, PlutoStatus>();
  const reach = new Map<string, { reach: NodeReachability; reason?: string }>();
  await collectOverSsh(targets, () => STATUS_COMMAND, o, (c) => {
    if (c.timedOut) reach.set(c.host, { reach: 'unreachable', reason: `no answer within ${o.timeoutMs / 1000} s` });
    else if (c.exitCode === 255 || c.exitCode === null) reach.set(c.host, { reach: 'unreachable', reason: oneLine(c.stderr) || 'ssh failed' });
    else if (c.exitCode !== 0) reach.set(c.host, { reach: 'unreadable', reason: `the status command exited ${c.exitCode}: ${oneLine(c.stderr || c.stdout) || 'no message'}` });
    else {
      const a = readStatusAnswer(c.stdout);
      if (a.whackExit !== 0) {
        reach.set(c.host, a.whackExit === undefined ? { reach: 'unreadable', reason: 'the status command\'s answer was cut short' } : { reach: 'no pluto', reason: `whack --status exited ${a.whackExit}: ${oneLine(c.stderr) || 'no message'}` });
        return;
      }
      try {
        statuses.set(c.host, parsePlutoStatus(a.text));
        reach.set(c.host, { reach: 'ok' });
      } catch (e) {
        reach.set(c.host, { reach: 'unreadable', reason: (e as Error).message });
      }
    }
  });
  let mon = await firstAnswer;
  const reachable = cluster.filter((t) => reach.get(t.host)?.reach !== 'unreachable');
  for (const t of reachable.filter((x) => x !== cluster[0])) {
    if (mon) break;
    mon = await askPacemaker(t);
  }

  const pacemaker = planPacemaker(overcloud);
  const vips: OvercloudReport['vips'] = [];
  const holders = new Map<string, string | undefined>();
  for (const v of overcloud.vips) {
    const resource = pacemaker.vipResources[v.name];
    const fromMon = mon?.resources.find((r) => r.id === resource && r.active)?.nodes[0];
    // The holder's ends towards its peers are loaded only where the VIP is.
    const holderEnd = connNames.vipToPeer(v.name, '');
    const fromPluto = [...statuses.entries()].find(([, s]) => [...s.conns.keys()].some((c) => c.startsWith(holderEnd)))?.[0];
    const holder = fromMon ?? fromPluto;
    holders.set(v.name, holder);
    vips.push({ vip: v.name, address: v.address, ...(holder ? { holder } : {}), from: fromMon ? 'crm_mon' : fromPluto ? 'pluto' : 'unknown' });
  }

  const report: OvercloudReport = { ok: true, nodes: [], vips, summary: { nodes: nodes.length, nodesOk: 0, tunnelsExpected: 0, tunnelsUp: 0 }, problems: [] };
  const why = reachable.length === 0 ? 'no cluster node could be reached' : 'Pacemaker did not say, and no pluto holds its ends';
  for (const v of vips) if (!v.holder) report.problems.push(`the ${v.vip} VIP ${v.address}: no node is known to hold it (${why})`);
  for (const n of nodes) {
    const r = reach.get(n.name)!;
    const plan = planHost(overcloud, n);
    const expected = expectedTunnels(plan, holders);
    report.summary.tunnelsExpected += expected.length;
    const s = statuses.get(n.name);
    if (!s) {
      report.nodes.push({ node: n.name, reach: r.reach, ...(r.reason ? { reason: r.reason } : {}) });
      report.problems.push(`${n.name}: ${r.reach === 'unreachable' ? 'cannot be reached' : r.reach === 'no pluto' ? 'pluto does not answer' : 'its pluto status is unreadable'}: ${r.reason}`);
      continue;
    }
    const planned = new Set(plan.files.flatMap((f) => f.conns.map((c) => c.name)));
    const check = checkNode(n.name, expected, s, planned);
    report.summary.tunnelsUp += check.withChildSa;
    report.nodes.push({ node: n.name, reach: 'ok', check });
    report.problems.push(...check.problems.map(describeProblem));
    for (const c of check.unplanned) report.problems.push(`${n.name}: conn ${c} is loaded but not in the plan`);
    if (check.problems.length === 0 && check.unplanned.length === 0 && check.guideOk) report.summary.nodesOk++;
    else if (check.problems.length === 0 && !check.guideOk) {
      report.problems.push(`${n.name}: ipsec status shows IKE SAs total(${check.ikeSas.total}), half-open(${check.ikeSas.halfOpen ?? 0}), authenticated(${check.ikeSas.authenticated}) and IPsec SAs total(${check.ipsecSas.total}) for ${check.expected} tunnels`);
    }
  }
  report.ok = report.problems.length === 0;
  return report;
}
