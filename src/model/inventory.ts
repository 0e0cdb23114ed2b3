// The two inventory shapes tripleo-ansible-inventory produces, read into one
// normalized form: groups (hosts, children, vars) and per-host variables.
//   static YAML:  Group: { hosts: { h: {vars} }, children: { G: {} }, vars: {} }
//                 (optionally under all: children:)
//   dynamic JSON: Group: { hosts: [h], children: [G], vars: {} }, _meta.hostvars.h
import { parseYamlText, yamlErrorWhere } from './yamlText.js';
import { InputError } from './errors.js';

export type Vars = Record<string, unknown>;

export interface InventoryGroup {
  hosts: string[];
  children: string[];
  vars: Vars;
}

export interface Inventory {
  groups: Map<string, InventoryGroup>;
  hostvars: Map<string, Vars>;
}

function isMap(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function namesOf(v: unknown, what: string, group: string): string[] {
  if (v === undefined || v === null) return [];
  if (Array.isArray(v)) {
    if (v.some((x) => typeof x !== 'string')) throw new InputError(`inventory group ${group}: ${what} must list names`);
    return v as string[];
  }
  if (isMap(v)) return Object.keys(v);
  throw new InputError(`inventory group ${group}: ${what} must be a mapping or a list`);
}

export function parseInventoryText(text: string, file = 'inventory'): Inventory {
  let doc: unknown;
  try {
    // JSON is YAML; one parser reads both shapes.
    doc = parseYamlText(text);
  } catch (e) {
    throw new InputError(`${file}: not YAML or JSON: ${yamlErrorWhere(e)}`);
  }
  if (!isMap(doc)) throw new InputError(`${file}: an inventory must be a mapping of groups`);
  return normalizeInventory(doc, file);
}

export function normalizeInventory(doc: Record<string, unknown>, file = 'inventory'): Inventory {
  const groups = new Map<string, InventoryGroup>();
  const hostvars = new Map<string, Vars>();

  const addHostVars = (host: string, vars: unknown) => {
    if (vars === undefined || vars === null) {
      if (!hostvars.has(host)) hostvars.set(host, {});
      return;
    }
    if (!isMap(vars)) throw new InputError(`${file}: variables of host ${host} must be a mapping`);
    hostvars.set(host, { ...(hostvars.get(host) ?? {}), ...vars });
  };

  const visit = (name: string, body: unknown) => {
    if (name === '_meta') return;
    if (body === null || body === undefined) body = {};
    if (!isMap(body)) throw new InputError(`${file}: group ${name} must be a mapping`);
    const g: InventoryGroup = groups.get(name) ?? { hosts: [], children: [], vars: {} };
    const hosts = body.hosts;
    g.hosts.push(...namesOf(hosts, 'hosts', name));
    if (isMap(hosts)) for (const [h, v] of Object.entries(hosts)) addHostVars(h, v);
    const children = body.children;
    g.children.push(...namesOf(children, 'children', name));
    if (body.vars !== undefined && body.vars !== null) {
      if (!isMap(body.vars)) throw new InputError(`${file}: vars of group ${name} must be a mapping`);
      g.vars = { ...g.vars, ...body.vars };
    }
    groups.set(name, g);
    // Static YAML nests group bodies under children; the dynamic shape names them at top level.
    if (isMap(children)) for (const [c, cb] of Object.entries(children)) if (isMap(cb) && Object.keys(cb).length) visit(c, cb);
  };

  for (const [name, body] of Object.entries(doc)) visit(name, body);

  const meta = doc._meta;
  if (isMap(meta) && isMap(meta.hostvars)) {
    for (const [h, v] of Object.entries(meta.hostvars)) addHostVars(h, v);
  }
  for (const g of groups.values()) {
    g.hosts = [...new Set(g.hosts)];
    g.children = [...new Set(g.children)];
    for (const h of g.hosts) if (!hostvars.has(h)) hostvars.set(h, {});
  }
  return { groups, hostvars };
}

/** Every host reachable from a group, through children (cycles tolerated). */
export function hostsOfGroup(inv: Inventory, group: string, seen = new Set<string>()): string[] {
  if (seen.has(group)) return [];
  seen.add(group);
  const g = inv.groups.get(group);
  if (!g) return [];
  const out = new Set(g.hosts);
  for (const c of g.children) for (const h of hostsOfGroup(inv, c, seen)) out.add(h);
  return [...out];
}

/** Groups that list `host` directly. */
export function directGroupsOf(inv: Inventory, host: string): string[] {
  return [...inv.groups.entries()].filter(([, g]) => g.hosts.includes(host)).map(([n]) => n);
}

/** Ancestors of a group, nearest last is not guaranteed; used to layer group vars. */
function parentsOf(inv: Inventory, group: string): string[] {
  return [...inv.groups.entries()].filter(([, g]) => g.children.includes(group)).map(([n]) => n);
}

/**
 * Ansible-style effective variables of a host: vars of every group it belongs
 * to (ancestors first, so nearer groups win), then its own host vars.
 */
export function effectiveVars(inv: Inventory, host: string): Vars {
  const order: string[] = [];
  const seen = new Set<string>();
  const climb = (g: string) => {
    if (seen.has(g)) return;
    seen.add(g);
    for (const p of parentsOf(inv, g).sort()) climb(p);
    order.push(g);
  };
  for (const g of directGroupsOf(inv, host).sort()) climb(g);
  const vars: Vars = {};
  for (const g of order) Object.assign(vars, inv.groups.get(g)?.vars ?? {});
  Object.assign(vars, inv.hostvars.get(host) ?? {});
  return vars;
}
