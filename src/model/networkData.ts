// TripleO's network_data.yaml, in each of its formats, as a list of
// networks with every subnet they have:
//   v1 (Train and earlier): ip_subnet / ipv6_subnet at the top, optionally
//      more subnets under `subnets:` (routed, Queens/Train);
//   v2 (Wallaby): only `subnets:` (each ip_subnet or ipv6_subnet), no `enabled`.
// name_lower defaults to name.lower(), as TripleO's own tools do
// (tools/process-templates.py, tripleo_network_populate_environment).
import { parseYamlText, yamlErrorWhere } from './yamlText.js';
import { InputError } from './errors.js';
import { type Problem, show } from './problems.js';
import { NETWORK_NAME } from './names.js';
import { parseCidr } from './addresses.js';
import type { IpFamily } from './types.js';

export interface NetworkDataEntry {
  /** As TripleO writes it in roles and enabled_networks: InternalApi. */
  name: string;
  nameLower: string;
  enabled: boolean;
  vip: boolean;
  family: IpFamily;
  /** Every subnet of the network in its family, canonical CIDRs, base subnet first. */
  subnets: string[];
}

/** TripleO's default for a missing name_lower. */
export function defaultNameLower(name: string): string {
  return name.toLowerCase();
}

type Raw = Record<string, unknown>;
const isMap = (v: unknown): v is Raw => typeof v === 'object' && v !== null && !Array.isArray(v);

export function parseNetworkData(text: string, file: string, problems: Problem[]): NetworkDataEntry[] {
  let doc: unknown;
  try {
    doc = parseYamlText(text);
  } catch (e) {
    throw new InputError(`${file}: not YAML: ${yamlErrorWhere(e)}`);
  }
  if (doc === null || doc === undefined) return [];
  if (!Array.isArray(doc)) throw new InputError(`${file}: network_data must be a list of networks`);
  const out: NetworkDataEntry[] = [];
  doc.forEach((entry, i) => {
    if (!isMap(entry)) {
      problems.push({ field: `${file}[${i}]`, value: show(entry), message: 'a network must be a mapping' });
      return;
    }
    if (typeof entry.name !== 'string' || entry.name === '') {
      problems.push({ field: `${file}[${i}].name`, value: show(entry.name), message: 'missing or not a string' });
      return;
    }
    const nameLower = typeof entry.name_lower === 'string' ? entry.name_lower : defaultNameLower(entry.name);
    if (!NETWORK_NAME.test(nameLower)) {
      problems.push({ field: `${file}: ${entry.name}.name_lower`, value: nameLower, message: 'not a plain identifier (a-z, 0-9, _)' });
      return;
    }
    const family: IpFamily = entry.ipv6 === true ? 6 : 4;
    const field = family === 6 ? 'ipv6_subnet' : 'ip_subnet';
    const subnets: string[] = [];
    const take = (raw: unknown, where: string): boolean => {
      if (raw === undefined || raw === null || raw === '') return true;
      const cidr = typeof raw === 'string' ? parseCidr(raw) : undefined;
      if (!cidr || cidr.family !== family) {
        problems.push({ field: `${file}: ${nameLower}.${where}`, value: show(raw), message: `not an IPv${family} CIDR` });
        return false;
      }
      if (!subnets.includes(cidr.text)) subnets.push(cidr.text);
      return true;
    };
    if (!take(entry[field], field)) return;
    if (entry.subnets !== undefined && entry.subnets !== null) {
      if (!isMap(entry.subnets)) {
        problems.push({ field: `${file}: ${nameLower}.subnets`, value: show(entry.subnets), message: 'must be a mapping of subnet name to subnet' });
        return;
      }
      for (const [name, s] of Object.entries(entry.subnets)) {
        if (!isMap(s)) {
          problems.push({ field: `${file}: ${nameLower}.subnets.${name}`, value: show(s), message: 'a subnet must be a mapping' });
          return;
        }
        if (!take(s[field], `subnets.${name}.${field}`)) return;
      }
    }
    out.push({ name: entry.name, nameLower, enabled: entry.enabled !== false, vip: entry.vip === true, family, subnets });
  });
  return out;
}
