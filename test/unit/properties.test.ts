// Property-based tests of every parser and renderer: whatever the input, a
// clear error or a correct answer; never a crash, never a line that escapes.
// Case counts are stated per property; CI runs all of them.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EnvironmentError, InputError, ValidationError } from '../../src/model/errors.js';
import { parseInventoryText } from '../../src/model/inventory.js';
import { parseNetworkData } from '../../src/model/networkData.js';
import { mergeLayers, resolveIpsecVars } from '../../src/model/ipsecVars.js';
import { parsePlutoStatus } from '../../src/libreswan/whackStatus.js';
import { parseCrmMon } from '../../src/pacemaker/crmMon.js';
import { renderConn, renderSecret } from '../../src/render/libreswan.js';
import { generateFrom, small, TEST_PSK } from '../helpers/inputs.js';

const FIX = join(__dirname, '..', 'fixtures');
const statusSamples = [
  ...readdirSync(join(FIX, 'libreswan')).filter((f) => f.startsWith('status-')).map((f) => join(FIX, 'libreswan', f)),
  ...['initial', 'fenced'].flatMap((s) => readdirSync(join(FIX, 'cluster', s)).filter((f) => f.endsWith('.txt')).map((f) => join(FIX, 'cluster', s, f))),
];

// Anything an attacker controlling an inventory could write into a field.
const hostile = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.constantFrom('192.0.2.1\n\tleftupdown=/bin/sh', '192.0.2.1"', '192.0.2.1 #', 'x"; rm -rf /', '\t', '%any', '@x\nconn evil', '2001:db8::1%eth0', '192.0.2.1/24', '$(reboot)'),
  fc.ipV4(),
  fc.ipV6(),
);

// Every line we render must be one of these shapes.
const CONF_LINE = /^(?:#[^\n]*|conn [A-Za-z0-9][A-Za-z0-9_.-]*|\t[a-z][a-z0-9-]*=[A-Za-z0-9@%_.:/,+;=-]+|)$/;
const SECRET_LINE = /^(?:#[^\n]*|\S+ \S+ : PSK "[^"\\\x00-\x1f]+"|: RSA "[A-Za-z0-9._-]+")$/;

function checkRendered(files: { path: string; content: string }[]) {
  for (const f of files) {
    if (f.path.endsWith('.conf')) for (const l of f.content.split('\n')) if (!CONF_LINE.test(l)) return false;
    if (f.path.endsWith('.secrets')) for (const l of f.content.split('\n')) if (l !== '' && !SECRET_LINE.test(l)) return false;
  }
  return true;
}

describe('properties', () => {
  it('generate: any value in any inventory field is refused or rendered as one safe token (400 cases)', () => {
    const fields = ['internal_api_ip', 'storage_ip', 'tenant_ip', 'storage_mgmt_ip'];
    fc.assert(
      fc.property(hostile, fc.constantFrom(...fields), fc.constantFrom('host', 'field', 'vip', 'network', 'algorithm', 'psk'), (value, field, where) => {
        const { inventory, networkData } = small();
        const inv = inventory as Record<string, { hosts?: Record<string, Record<string, unknown>>; vars?: Record<string, unknown> }>;
        const vars: Record<string, unknown> = { ipsec_psk: TEST_PSK };
        if (where === 'host') inv.Compute.hosts![value] = { internal_api_ip: '192.0.2.222' };
        else if (where === 'field') inv.Controller.hosts!['overcloud-controller-0'][field] = value;
        else if (where === 'vip') inv.overcloud.vars!.internal_api_vip = value;
        else if (where === 'network') (networkData[0] as Record<string, unknown>).name_lower = value;
        else if (where === 'algorithm') vars.ipsec_algorithm = value;
        else vars.ipsec_psk = value;
        try {
          return checkRendered(generateFrom({ inventory, networkData, env: { parameter_defaults: { IpsecVars: vars } } }).files);
        } catch (e) {
          return e instanceof ValidationError || e instanceof InputError;
        }
      }),
      { numRuns: 400 },
    );
  });

  it('the renderers refuse what they cannot render safely (2,000 cases)', () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), fc.string(), (name, key, value) => {
        try {
          const out = renderConn({ name, kind: 'node-to-node', step: 1, auto: 'start', network: 'internal_api', options: [[key, value]] });
          return out.split('\n').every((l) => CONF_LINE.test(l));
        } catch (e) {
          return e instanceof InputError;
        }
      }),
      { numRuns: 1000 },
    );
    fc.assert(
      fc.property(fc.string(), fc.string(), fc.string(), (a, b, psk) => {
        try {
          return SECRET_LINE.test(renderSecret({ ids: [a, b], psk }));
        } catch (e) {
          return e instanceof InputError;
        }
      }),
      { numRuns: 1000 },
    );
  });

  it('inventory, network_data and IpsecVars parsers: a clear error or a value, for any YAML (1,500 cases)', () => {
    const yamlish = fc.oneof(fc.string(), fc.json(), fc.jsonValue().map((v) => JSON.stringify(v)));
    fc.assert(
      fc.property(yamlish, (text) => {
        try {
          parseInventoryText(text, 'inv');
        } catch (e) {
          if (!(e instanceof InputError)) return false;
        }
        try {
          parseNetworkData(text, 'nd', []);
        } catch (e) {
          if (!(e instanceof InputError)) return false;
        }
        return true;
      }),
      { numRuns: 1000 },
    );
    fc.assert(
      fc.property(fc.dictionary(fc.string(), fc.jsonValue()), (raw) => {
        const problems: unknown[] = [];
        const v = resolveIpsecVars(mergeLayers([raw]), problems as never);
        return problems.length > 0 || (typeof v.ipsec_algorithm === 'string' && Array.isArray(v.ipsec_skip_networks));
      }),
      { numRuns: 500 },
    );
  });

  it('ipsec status: every 7th-byte truncation of 12 real samples is an error or the full answer; arbitrary text is an error (1,000 random)', () => {
    let cuts = 0;
    for (const file of statusSamples) {
      const full = readFileSync(file, 'utf8');
      const whole = parsePlutoStatus(full);
      for (let n = 0; n < full.length; n += 7) {
        cuts++;
        try {
          expect(parsePlutoStatus(full.slice(0, n)), `${file} cut at ${n}`).toEqual(whole);
        } catch (e) {
          if (!(e instanceof EnvironmentError)) throw e;
        }
      }
    }
    expect(cuts).toBeGreaterThan(10_000);
    fc.assert(
      fc.property(fc.string(), (t) => {
        try {
          parsePlutoStatus(t);
          return false;
        } catch (e) {
          return e instanceof EnvironmentError;
        }
      }),
      { numRuns: 1000 },
    );
  });

  it('crm_mon XML: every 5th-byte truncation of 2 real outputs is an error or the full answer', () => {
    for (const step of ['initial', 'fenced']) {
      const full = readFileSync(join(FIX, 'cluster', step, 'crm_mon.xml'), 'utf8');
      const whole = parseCrmMon(full);
      for (let n = 0; n < full.length; n += 5) {
        try {
          expect(parseCrmMon(full.slice(0, n)), `${step} cut at ${n}`).toEqual(whole);
        } catch (e) {
          if (!(e instanceof EnvironmentError)) throw e;
        }
      }
    }
  });
});
