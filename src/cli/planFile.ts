import { readFileSync } from 'node:fs';
import { InputError } from '../model/errors.js';
import { NETWORK_NAME } from '../model/names.js';
import type { PacemakerPlan } from '../plan/pacemaker.js';

/** The plan generate wrote, checked enough that pcs never sees something else. */
export function readPlan(path: string): PacemakerPlan {
  let plan: PacemakerPlan;
  try {
    plan = JSON.parse(readFileSync(path, 'utf8')) as PacemakerPlan;
  } catch (e) {
    throw new InputError(`cannot read plan ${path}: ${(e as Error).message}`, { cause: e });
  }
  if (!plan || !Array.isArray(plan.resources) || !Array.isArray(plan.constraints) || typeof plan.vipResources !== 'object') {
    throw new InputError(`${path} is not a plan written by tripleo-ipsec generate`);
  }
  // Plans of earlier versions have neither: nothing retired, peers known only from the holder's pluto.
  return { ...plan, retired: plan.retired ?? [], vipPeers: plan.vipPeers ?? {} };
}

const RESOURCE_ID = /^[A-Za-z0-9_][A-Za-z0-9_.:-]*$/;

export function parseVipResources(specs: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const s of specs) {
    const [vip, rsc, ...rest] = s.split('=');
    if (rest.length || !vip || !rsc || !NETWORK_NAME.test(vip) || !RESOURCE_ID.test(rsc)) {
      throw new InputError(`--vip-resource ${JSON.stringify(s)}: expected <vip name>=<resource id>, e.g. internal_api=ip-192.0.2.100`);
    }
    out[vip] = rsc;
  }
  return out;
}
