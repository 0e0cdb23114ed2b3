// IpsecVars: the role's variables, their defaults (one place), how heat
// environments and --set layer them, and their validation.
import { parseYamlText } from './yamlText.js';
import type { AuthMode, IpsecPolicy, IpsecVars, PskMode } from './types.js';
import { parseAddress, parseCidr } from './addresses.js';
import { type Problem, redact, shapeOf, show } from './problems.js';
import { NETWORK_NAME } from './names.js';
import { checkEspBuiltin, type AlgorithmVerdict } from './algorithms.js';
import { rememberSecret } from '../secrets/redaction.js';

const MIN_PSK_BYTES = 32;
/** A key of fewer different characters is a pattern, not a secret (a 32-character hex key has 16). */
const MIN_DISTINCT = 8;

/** Defaults; `ipsec_psk` has none (generated when absent, see generate). */
export const IPSEC_VAR_DEFAULTS: Omit<IpsecVars, 'ipsec_psk'> = {
  ipsec_psk_mode: 'derived',
  ipsec_algorithm: 'aes_gcm128-null',
  ipsec_skip_networks: [],
  ipsec_configure_vips: true,
  ipsec_skip_firewall_rules: false,
  use_opportunistic_ipsec: false,
  ipsec_policy: 'private',
  ipsec_auth: 'psk',
  ipsec_clear_hosts: [],
  ipsec_leaf_networks: {},
  ipsec_uninstall_tunnels: false,
  ipsec_upgrade_tunnels: false,
};

/**
 * Variables of the Ansible role (tripleo-ipsec's defaults/main.yml) that
 * mean nothing here: accepted, with a note each, so the role's IpsecVars
 * deploy after the switch instead of failing at step 1.
 */
const ROLE_ONLY_VARIABLES: Record<string, string> = {
  ipsec_force_install_legacy: "the role's pre-2018 layout; tripleo-ipsec has one",
  ipsec_setup_resource_agents: 'tripleo-ipsec always installs ocf:tripleo:ipsec (host_prep_tasks) and creates its resources at step 3',
  overcloud_controller_identifier: 'cluster nodes come from the inventory\'s pacemaker group',
};

/** Documentation of every variable, used by --help and kept in step with the README. */
export const IPSEC_VAR_DOCS: Record<keyof IpsecVars, string> = {
  ipsec_psk: 'master pre-shared key, at least 32 bytes, no quote, backslash or control character, not guessable (only whitespace, one character repeated or fewer than 8 different characters are refused; generated when absent)',
  ipsec_psk_mode: "'derived': every tunnel gets its own key, derived from ipsec_psk with HKDF-SHA256; 'shared': ipsec_psk itself on every tunnel (interop with the Ansible role)",
  ipsec_algorithm: 'ESP proposal (libreswan phase2alg), checked with ipsec algparse',
  ipsec_skip_networks: 'networks (name_lower) that get no tunnels',
  ipsec_configure_vips: 'generate VIP tunnels and their Pacemaker resources',
  ipsec_skip_firewall_rules: 'leave out the firewall rules',
  use_opportunistic_ipsec: 'opportunistic authby=null conns with policy files instead of the PSK mesh',
  ipsec_policy: "'private' drops traffic a tunnel cannot protect; 'private-or-clear' lets it through in clear",
  ipsec_auth: "'psk' or 'cert': node-to-node tunnels authenticated by certificates of the cluster's CA (generate --ca-create or --ca-cert/--ca-key)",
  ipsec_clear_hosts: 'addresses or CIDRs left in clear in certificate opportunistic mode (the gateway, hosts outside the cluster)',
  ipsec_leaf_networks: "legacy routed leaf networks: {leaf: network}, e.g. {internal_api2: internal_api}; found from network_data when absent (a declared '<net><digits>' beside '<net>'); {leaf: leaf} keeps one separate",
  ipsec_uninstall_tunnels: "the role's switch: true removes everything tripleo-ipsec installed from every node, through a normal deploy",
  ipsec_upgrade_tunnels: "the role's switch: true replaces overcloud-* files an earlier installation (the role) left, as apply --upgrade",
};

export type RawVars = Record<string, unknown>;

const KNOWN = new Set<string>(Object.keys(IPSEC_VAR_DOCS));

/** The IpsecVars mapping of one heat environment (parameter_defaults.IpsecVars), or {}. */
function ipsecVarsOfEnvironment(env: unknown, file: string, problems: Problem[]): RawVars {
  if (env === null || env === undefined) return {};
  if (typeof env !== 'object' || Array.isArray(env)) {
    problems.push({ field: file, value: shapeOf(env), message: 'a heat environment must be a mapping' });
    return {};
  }
  const pd = (env as Record<string, unknown>).parameter_defaults;
  if (pd === undefined || pd === null) return {};
  if (typeof pd !== 'object' || Array.isArray(pd)) {
    problems.push({ field: `${file}: parameter_defaults`, value: shapeOf(pd), message: 'must be a mapping' });
    return {};
  }
  const iv = (pd as Record<string, unknown>).IpsecVars;
  if (iv === undefined || iv === null) return {};
  if (typeof iv !== 'object' || Array.isArray(iv)) {
    // Its content is never shown: a list or a string here may well hold the PSK.
    problems.push({ field: `${file}: parameter_defaults.IpsecVars`, value: shapeOf(iv), message: 'must be a mapping of variable to value' });
    return {};
  }
  const vars = iv as RawVars;
  rememberSecret(vars.ipsec_psk);
  return copyOwn(vars);
}

/** A copy keeping every own key, `__proto__` included (a spread or Object.assign would make it the prototype). */
function copyOwn(v: RawVars): RawVars {
  const out: RawVars = Object.create(null) as RawVars;
  for (const k of Object.keys(v)) Object.defineProperty(out, k, { value: v[k], enumerable: true, writable: true, configurable: true });
  return out;
}

/** `key=value` from --set; the value is read as a YAML scalar or flow list (true, [a, b]). */
function parseSetOption(option: string, problems: Problem[]): RawVars {
  const eq = option.indexOf('=');
  if (eq <= 0) {
    problems.push({ field: '--set', value: option.startsWith('ipsec_psk') ? redact(option) : option, message: 'expected key=value' });
    return {};
  }
  const key = option.slice(0, eq);
  const text = option.slice(eq + 1);
  // The PSK is taken verbatim: YAML would turn some keys into numbers or lists.
  if (key === 'ipsec_psk') {
    rememberSecret(text);
    return { [key]: text };
  }
  let value: unknown = text;
  try {
    value = text === '' ? '' : parseYamlText(text);
  } catch {
    value = text;
  }
  return copyOwn({ [key]: value });
}

function toBool(name: string, v: unknown, problems: Problem[]): boolean | undefined {
  if (typeof v === 'boolean') return v;
  if (typeof v === 'string' && /^(true|yes|on|1)$/i.test(v)) return true;
  if (typeof v === 'string' && /^(false|no|off|0)$/i.test(v)) return false;
  problems.push({ field: `IpsecVars.${name}`, value: show(v), message: 'expected true or false' });
  return undefined;
}

function toList(name: string, v: unknown, problems: Problem[]): string[] | undefined {
  const items = typeof v === 'string' ? (v.trim() === '' ? [] : v.split(',').map((s) => s.trim())) : v;
  if (!Array.isArray(items) || items.some((i) => typeof i !== 'string')) {
    problems.push({ field: `IpsecVars.${name}`, value: show(v), message: 'expected a list of network names' });
    return undefined;
  }
  const bad = items.find((i) => !NETWORK_NAME.test(i));
  if (bad !== undefined) {
    problems.push({ field: `IpsecVars.${name}`, value: bad, message: 'not a network name (lower case letters, digits, _)' });
    return undefined;
  }
  return [...new Set(items as string[])].sort();
}

/** Problems with a PSK, or none. Never puts the key itself in a message. */
export function pskProblems(psk: unknown, field = 'IpsecVars.ipsec_psk'): Problem[] {
  if (typeof psk !== 'string') return [{ field, value: redact(psk), message: 'must be a string' }];
  const problems: Problem[] = [];
  if (Buffer.byteLength(psk) < MIN_PSK_BYTES) {
    problems.push({ field, value: redact(psk), message: `shorter than ${MIN_PSK_BYTES} bytes` });
  }
  // Long but guessable: nothing a generated or a chosen key looks like.
  const distinct = new Set(psk).size;
  if (psk.trim() === '') problems.push({ field, value: redact(psk), message: 'is only whitespace: a key must be hard to guess (tripleo-ipsec heat-env makes one)' });
  else if (distinct === 1) problems.push({ field, value: redact(psk), message: 'is one character repeated: a key must be hard to guess (tripleo-ipsec heat-env makes one)' });
  else if (distinct < MIN_DISTINCT) problems.push({ field, value: redact(psk), message: `uses only ${distinct} different characters: a key must be hard to guess (tripleo-ipsec heat-env makes one)` });
  // The key is written inside PSK "..." in a secrets file: nothing may end the quote or the line.
  if (/["\\]/.test(psk) || /[\x00-\x1f\x7f]/.test(psk)) {
    problems.push({ field, value: redact(psk), message: 'holds a quote, backslash, newline or other control character' });
  }
  return problems;
}

/**
 * The IpsecVars layers of a run, in order of precedence: every -e heat
 * environment (later files win), then every --set. Shared by generate,
 * apply and heat-env so they read variables the same way.
 */
export function varLayers(environments: { path: string; doc: unknown }[], sets: string[], problems: Problem[]): RawVars[] {
  const layers = environments.map((e) => ipsecVarsOfEnvironment(e.doc, e.path, problems));
  for (const s of sets) layers.push(parseSetOption(s, problems));
  return layers;
}

/** The layers merged, later wins; every key kept as given, `__proto__` too. */
export function mergeLayers(layers: RawVars[]): Map<string, unknown> {
  const merged = new Map<string, unknown>();
  for (const l of layers) for (const k of Object.keys(l)) merged.set(k, l[k]);
  return merged;
}

/**
 * Validate every merged value over the defaults. `ipsec_psk` may stay
 * undefined here: the caller decides whether to generate one. The verdict on
 * ipsec_algorithm comes in as data: libreswan is asked at the input edge
 * (src/inputs/load.ts), not from here.
 */
export function resolveIpsecVars(
  merged: Map<string, unknown>,
  problems: Problem[],
  algorithmVerdict: (algorithm: string) => AlgorithmVerdict = checkEspBuiltin,
  notes?: string[],
): Omit<IpsecVars, 'ipsec_psk'> & { ipsec_psk?: string } {
  const out: Omit<IpsecVars, 'ipsec_psk'> & { ipsec_psk?: string } = { ...IPSEC_VAR_DEFAULTS, ipsec_skip_networks: [], ipsec_clear_hosts: [], ipsec_leaf_networks: {} };
  for (const [key, v] of merged) {
    if (Object.hasOwn(ROLE_ONLY_VARIABLES, key)) {
      notes?.push(`IpsecVars.${key} (a variable of the Ansible role) is ignored: ${ROLE_ONLY_VARIABLES[key]}`);
      continue;
    }
    if (!KNOWN.has(key)) {
      // The value is never shown: a misspelt ipsec_psk is still a key.
      problems.push({
        field: `IpsecVars.${key}`,
        value: shapeOf(v),
        message: `unknown variable (known: ${[...KNOWN].sort().join(', ')})`,
      });
      continue;
    }
    switch (key as keyof IpsecVars) {
      case 'ipsec_psk': {
        const p = pskProblems(v);
        if (p.length) problems.push(...p);
        else out.ipsec_psk = v as string;
        break;
      }
      case 'ipsec_algorithm': {
        if (typeof v !== 'string') {
          problems.push({ field: 'IpsecVars.ipsec_algorithm', value: show(v), message: 'must be a string' });
          break;
        }
        const verdict = algorithmVerdict(v);
        if (!verdict.ok) {
          problems.push({ field: 'IpsecVars.ipsec_algorithm', value: v, message: `libreswan rejects it: ${verdict.reason}` });
        } else out.ipsec_algorithm = v;
        break;
      }
      case 'ipsec_skip_networks': {
        const l = toList(key, v, problems);
        if (l) out.ipsec_skip_networks = l;
        break;
      }
      case 'ipsec_psk_mode': {
        if (v !== 'derived' && v !== 'shared') {
          problems.push({ field: 'IpsecVars.ipsec_psk_mode', value: show(v), message: "expected 'derived' or 'shared'" });
        } else out.ipsec_psk_mode = v as PskMode;
        break;
      }
      case 'ipsec_auth': {
        if (v !== 'psk' && v !== 'cert') problems.push({ field: 'IpsecVars.ipsec_auth', value: show(v), message: "expected 'psk' or 'cert'" });
        else out.ipsec_auth = v as AuthMode;
        break;
      }
      case 'ipsec_clear_hosts': {
        const items = typeof v === 'string' ? v.split(',').map((x) => x.trim()).filter(Boolean) : v;
        if (!Array.isArray(items)) {
          problems.push({ field: 'IpsecVars.ipsec_clear_hosts', value: show(v), message: 'expected a list of addresses or CIDRs' });
          break;
        }
        const good: string[] = [];
        for (const it of items) {
          const a = typeof it === 'string' ? (it.includes('/') ? parseCidr(it)?.text : parseAddress(it)?.text) : undefined;
          if (!a) problems.push({ field: 'IpsecVars.ipsec_clear_hosts', value: show(it), message: 'not an address or CIDR' });
          else good.push(a);
        }
        out.ipsec_clear_hosts = [...new Set(good)].sort();
        break;
      }
      case 'ipsec_leaf_networks': {
        if (typeof v !== 'object' || v === null || Array.isArray(v)) {
          problems.push({ field: 'IpsecVars.ipsec_leaf_networks', value: show(v), message: 'expected a mapping of leaf network to network, e.g. {internal_api2: internal_api}' });
          break;
        }
        const map: Record<string, string> = {};
        for (const [leaf, net] of Object.entries(v as Record<string, unknown>)) {
          if (!NETWORK_NAME.test(leaf) || typeof net !== 'string' || !NETWORK_NAME.test(net)) {
            problems.push({ field: `IpsecVars.ipsec_leaf_networks.${leaf}`, value: show(net), message: 'leaf and network must be network names (lower case letters, digits, _)' });
          } else map[leaf] = net;
        }
        out.ipsec_leaf_networks = map;
        break;
      }
      case 'ipsec_policy': {
        if (v !== 'private' && v !== 'private-or-clear') {
          problems.push({ field: 'IpsecVars.ipsec_policy', value: show(v), message: "expected 'private' or 'private-or-clear'" });
        } else out.ipsec_policy = v as IpsecPolicy;
        break;
      }
      default: {
        const b = toBool(key, v, problems);
        if (b !== undefined) (out as unknown as Record<string, boolean>)[key] = b;
      }
    }
  }
  return out;
}
