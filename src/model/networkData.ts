// TripleO's network_data.yaml: a list of networks with name, name_lower,
// vip, enabled, ip_subnet, ipv6_subnet, ipv6.
import { parseYamlText } from './yamlText.js';
import { InputError, type Problem, show } from './errors.js';
import { NETWORK_NAME } from './names.js';
import { parseCidr } from './addresses.js';
import type { IpFamily } from './types.js';

export interface NetworkDataEntry {
  nameLower: string;
  enabled: boolean;
  vip: boolean;
  family: IpFamily;
  subnet?: string;
}

function lowerOf(name: string): string {
  // TripleO's own default: name_lower is the name in snake case.
  return name.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toLowerCase();
}

export function parseNetworkData(text: string, file: string, problems: Problem[]): NetworkDataEntry[] {
  let doc: unknown;
  try {
    doc = parseYamlText(text);
  } catch (e) {
    throw new InputError(`${file}: not YAML: ${(e as Error).message.split('\n')[0]}`, { cause: e });
  }
  if (!Array.isArray(doc)) throw new InputError(`${file}: network_data must be a list of networks`);
  const out: NetworkDataEntry[] = [];
  doc.forEach((entry, i) => {
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) {
      problems.push({ field: `${file}[${i}]`, value: show(entry), message: 'a network must be a mapping' });
      return;
    }
    const e = entry as Record<string, unknown>;
    if (typeof e.name !== 'string') {
      problems.push({ field: `${file}[${i}].name`, value: show(e.name), message: 'missing or not a string' });
      return;
    }
    const nameLower = typeof e.name_lower === 'string' ? e.name_lower : lowerOf(e.name);
    if (!NETWORK_NAME.test(nameLower)) {
      problems.push({ field: `${file}: ${e.name}.name_lower`, value: nameLower, message: 'not a plain identifier (a-z, 0-9, _)' });
      return;
    }
    const ipv6 = e.ipv6 === true;
    const family: IpFamily = ipv6 ? 6 : 4;
    const subnetField = ipv6 ? 'ipv6_subnet' : 'ip_subnet';
    let subnet: string | undefined;
    const raw = e[subnetField];
    if (raw !== undefined && raw !== null && raw !== '') {
      const cidr = typeof raw === 'string' ? parseCidr(raw) : undefined;
      if (!cidr || cidr.family !== family) {
        problems.push({ field: `${file}: ${nameLower}.${subnetField}`, value: show(raw), message: `not an IPv${family} CIDR` });
        return;
      }
      subnet = cidr.text;
    }
    out.push({ nameLower, enabled: e.enabled !== false, vip: e.vip === true, family, subnet });
  });
  return out;
}
