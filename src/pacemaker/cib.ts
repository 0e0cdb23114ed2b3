// Reading what matters to us out of a CIB (pcs cluster cib / cib.xml) with
// fast-xml-parser: our primitives with their parameters, constraint ids.
import { XMLParser } from 'fast-xml-parser';
import { EnvironmentError } from '../model/errors.js';

export interface CibPrimitive {
  id: string;
  agent: string;
  params: Record<string, string>;
  meta: Record<string, string>;
  /** Operation timeouts by operation name (the first of each name), as written ("30s"). */
  opTimeouts: Record<string, string>;
  /** id of the clone holding it, if any */
  clone?: string;
}

export interface CibConstraint {
  id: string;
  tag: string;
  attrs: Record<string, string>;
}

export interface CibView {
  primitives: Map<string, CibPrimitive>;
  constraints: Map<string, CibConstraint>;
  /** every id in the configuration section */
  ids: Set<string>;
}

const ARRAYS = new Set(['primitive', 'clone', 'group', 'nvpair', 'instance_attributes', 'meta_attributes', 'rsc_colocation', 'rsc_order', 'rsc_location', 'op', 'node', 'resource', 'failure']);

export function xmlParser(): XMLParser {
  return new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '', isArray: (name) => ARRAYS.has(name) });
}

type Obj = Record<string, unknown>;
const arr = (v: unknown): Obj[] => (Array.isArray(v) ? (v as Obj[]) : v ? [v as Obj] : []);

function collectIds(node: unknown, ids: Set<string>) {
  if (Array.isArray(node)) for (const n of node) collectIds(n, ids);
  else if (node && typeof node === 'object') {
    for (const [k, v] of Object.entries(node as Obj)) {
      if (k === 'id' && typeof v === 'string') ids.add(v);
      else collectIds(v, ids);
    }
  }
}

function primitiveOf(p: Obj, clone?: string): CibPrimitive {
  const params: Record<string, string> = {};
  for (const ia of arr(p.instance_attributes)) for (const nv of arr(ia.nvpair)) params[String(nv.name)] = String(nv.value ?? '');
  const meta: Record<string, string> = {};
  for (const ma of arr(p.meta_attributes)) for (const nv of arr(ma.nvpair)) meta[String(nv.name)] = String(nv.value ?? '');
  const opTimeouts: Record<string, string> = {};
  for (const op of arr((p.operations as Obj | undefined)?.op)) if (op.timeout !== undefined && !(String(op.name) in opTimeouts)) opTimeouts[String(op.name)] = String(op.timeout);
  return { id: String(p.id), agent: `${p.class}:${p.provider ? `${p.provider}:` : ''}${p.type}`, params, meta, opTimeouts, clone };
}


export function parseCib(xml: string): CibView {
  const doc = xmlParser().parse(xml) as Obj;
  const cib = doc.cib as Obj | undefined;
  const conf = cib?.configuration as Obj | undefined;
  if (!conf) throw new EnvironmentError('not a CIB: no <cib><configuration>');
  const resources = (conf.resources ?? {}) as Obj;
  const primitives = new Map<string, CibPrimitive>();
  for (const p of arr(resources.primitive)) primitives.set(String(p.id), primitiveOf(p));
  for (const c of arr(resources.clone)) for (const p of arr(c.primitive)) primitives.set(String(p.id), primitiveOf(p, String(c.id)));
  for (const g of arr(resources.group)) for (const p of arr(g.primitive)) primitives.set(String(p.id), primitiveOf(p));
  const constraints = new Map<string, CibConstraint>();
  const cons = (conf.constraints ?? {}) as Obj;
  for (const tag of ['rsc_colocation', 'rsc_order', 'rsc_location']) {
    for (const c of arr(cons[tag])) {
      const attrs: Record<string, string> = {};
      for (const [k, v] of Object.entries(c)) if (typeof v !== 'object') attrs[k] = String(v);
      constraints.set(String(c.id), { id: String(c.id), tag, attrs });
    }
  }
  const ids = new Set<string>();
  collectIds(conf, ids);
  return { primitives, constraints, ids };
}
