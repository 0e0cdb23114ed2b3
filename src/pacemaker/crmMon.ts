// `crm_mon --output-as=xml` (Pacemaker 2.1), parsed with fast-xml-parser into
// where each resource runs, which nodes are online, and failed actions.
import { xmlParser } from './cib.js';
import { EnvironmentError } from '../model/errors.js';

export interface CrmNode {
  name: string;
  online: boolean;
  standby: boolean;
}

export interface CrmResource {
  id: string;
  agent: string;
  role: string;
  active: boolean;
  failed: boolean;
  /** nodes it is active on */
  nodes: string[];
  /** id of the clone it belongs to */
  clone?: string;
}

export interface CrmFailure {
  resource: string;
  node: string;
  task: string;
  exitStatus: string;
  exitReason: string;
}

export interface CrmMon {
  nodes: CrmNode[];
  resources: CrmResource[];
  failures: CrmFailure[];
}


type Obj = Record<string, unknown>;
const arr = (v: unknown): Obj[] => (Array.isArray(v) ? (v as Obj[]) : v && typeof v === 'object' ? [v as Obj] : []);
const bool = (v: unknown) => v === true || v === 'true';

function resourceOf(r: Obj, clone?: string): CrmResource {
  return {
    id: String(r.id),
    agent: String(r.resource_agent ?? ''),
    role: String(r.role ?? ''),
    active: bool(r.active),
    failed: bool(r.failed),
    nodes: arr(r.node).map((n) => String(n.name)),
    clone,
  };
}

export function parseCrmMon(xml: string): CrmMon {
  let doc: Obj;
  try {
    doc = xmlParser().parse(xml, true) as Obj;
  } catch (e) {
    throw new EnvironmentError(`crm_mon output is not XML: ${(e as Error).message.split('\n')[0]}`, { cause: e });
  }
  const root = doc['pacemaker-result'] as Obj | undefined;
  if (!root || typeof root !== 'object') throw new EnvironmentError('not crm_mon --output-as=xml output (no <pacemaker-result>)');
  if (!root.nodes || !('resources' in root)) throw new EnvironmentError('crm_mon output has no <nodes>/<resources>: truncated, or the cluster is not running');
  const nodes = arr((root.nodes as Obj).node).map((n) => ({ name: String(n.name), online: bool(n.online), standby: bool(n.standby) }));
  const resources: CrmResource[] = [];
  const res = (root.resources ?? {}) as Obj;
  for (const r of arr(res.resource)) resources.push(resourceOf(r));
  for (const c of arr(res.clone)) for (const r of arr(c.resource)) resources.push(resourceOf(r, String(c.id)));
  for (const g of arr(res.group)) for (const r of arr(g.resource)) resources.push(resourceOf(r));
  const failures = arr((root.failures as Obj | undefined)?.failure).map((f) => ({
    resource: String(f.op_key ?? '').replace(/_(start|stop|monitor|promote|demote|migrate_to|migrate_from|notify)_\d+$/, ''),
    node: String(f.node ?? ''),
    task: String(f.task ?? ''),
    exitStatus: String(f.exitstatus ?? ''),
    exitReason: String(f.exitreason ?? ''),
  }));
  return { nodes, resources, failures };
}
