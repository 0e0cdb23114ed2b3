// The Pacemaker plan generate wrote (cluster/pacemaker.json), read back for
// `pacemaker apply|remove` and `status --plan`. A plan is data that can name
// resources to delete: it is accepted only when it is exactly the plan its
// own VIPs give (src/plan/pacemaker.ts pacemakerPlanFor), so an edited plan
// can neither delete a resource of someone else's nor point a tunnel elsewhere.
import { isDeepStrictEqual } from 'node:util';
import { InputError } from '../model/errors.js';
import { HOST_NAME, NETWORK_NAME, RESOURCE_ID, pacemakerNames } from '../model/names.js';
import { parseAddress } from '../model/addresses.js';
import { readInputFile } from '../inputs/read.js';
import { pacemakerPlanFor, type PacemakerPlan, type PlannedVip } from '../plan/pacemaker.js';

/** The plan generate wrote, checked against the plan its VIPs give. */
export function readPlan(path: string): PacemakerPlan {
  let raw: Partial<PacemakerPlan>;
  try {
    raw = JSON.parse(readInputFile(path, 'Pacemaker plan')) as Partial<PacemakerPlan>;
  } catch (e) {
    if (e instanceof InputError) throw e;
    throw new InputError(`cannot read plan ${path}: ${(e as Error).message}`);
  }
  const bad = (what: string) => new InputError(`${path} is not a plan written by tripleo-ipsec generate: ${what}`);
  if (!raw || typeof raw !== 'object' || !Array.isArray(raw.resources) || !Array.isArray(raw.constraints) || typeof raw.vipResources !== 'object' || raw.vipResources === null) throw bad('no resources, constraints or vipResources');
  const vips: PlannedVip[] = [];
  for (const [name, vipResource] of Object.entries(raw.vipResources)) {
    if (!NETWORK_NAME.test(name) || typeof vipResource !== 'string' || !RESOURCE_ID.test(vipResource)) throw bad(`vipResources.${name}=${JSON.stringify(vipResource)}`);
    const r = raw.resources.find((x) => (x as { params?: { vip?: unknown } })?.params?.vip !== undefined && (x as { id?: unknown }).id === pacemakerNames.tunnelResource(name)) as { params: { vip: unknown } } | undefined;
    const address = parseAddress(r?.params.vip);
    if (!address || address.text !== r?.params.vip) throw bad(`the ${name} VIP's address ${JSON.stringify(r?.params.vip)}`);
    // Plans of earlier versions have no vipPeers: peers are then known only from the holder's pluto.
    const peers = raw.vipPeers?.[name] ?? [];
    if (!Array.isArray(peers) || !peers.every((h) => typeof h === 'string' && HOST_NAME.test(h))) throw bad(`vipPeers.${name}`);
    vips.push({ name, address: address.text, vipResource, peers });
  }
  const expected = pacemakerPlanFor(vips);
  // Without vipPeers, the number of peers the start timeout was derived from is not known: a sane one is taken as given.
  if (raw.vipPeers === undefined) {
    raw.resources.forEach((r, i) => {
      const t = (r as { startTimeout?: unknown }).startTimeout;
      if (expected.resources[i] && Number.isInteger(t) && (t as number) >= 30 && (t as number) <= 3600) expected.resources[i].startTimeout = t as number;
    });
  }
  // Plans of earlier versions have neither retired nor vipPeers, nor a start timeout or meta attributes.
  const resources = (raw.resources as Partial<PacemakerPlan['resources'][number]>[]).map((r, i) => ({ ...r, startTimeout: r.startTimeout ?? expected.resources[i]?.startTimeout, meta: r.meta ?? expected.resources[i]?.meta }));
  const given: PacemakerPlan = { ...(raw as PacemakerPlan), resources: resources as PacemakerPlan['resources'], retired: raw.retired ?? expected.retired, vipPeers: raw.vipPeers ?? expected.vipPeers };
  for (const key of ['resources', 'constraints', 'retired', 'vipPeers'] as const) {
    if (!isDeepStrictEqual(given[key], expected[key])) throw bad(`its ${key} are not what its VIPs give (edited by hand?): generate it again`);
  }
  return expected;
}
