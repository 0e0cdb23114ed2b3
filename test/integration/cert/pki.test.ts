// Certificate authentication: the cluster CA and host certificates issued by
// generate (checked with openssl's own parser), imported with pk12util into
// each pluto's NSS database; explicit conns and opportunistic private pairs
// authenticate by RSA signature; a certificate from another CA is refused.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generate } from '../../../src/generate.js';
import { writeOutputTreeSync } from '../../../src/output/outputTree.js';
import { connsWithIkeSa, parsePlutoStatus } from '../../../src/libreswan/whackStatus.js';
import { Lab } from '../../helpers/netns.js';
import { plutoLog, startPluto, waitFor, whack, type Pluto } from '../../helpers/pluto.js';
import { scratchDir, writeInputs } from '../../helpers/inputs.js';
import { checkconfigIpsecDir } from '../../helpers/checkconfig.js';

const HOSTS = { 'overcloud-novacompute-0': '192.0.2.20', 'overcloud-novacompute-1': '192.0.2.21', 'overcloud-novacompute-2': '192.0.2.22' } as const;
type Host = keyof typeof HOSTS;
const [A, B, C] = Object.keys(HOSTS) as Host[];
const inventory = {
  Compute: {
    hosts: Object.fromEntries(Object.entries(HOSTS).map(([h, a]) => [h, { internal_api_ip: a, canonical_hostname: `${h}.example.com` }])),
    vars: { tripleo_role_name: 'Compute', tripleo_role_networks: ['ctlplane', 'internal_api'] },
  },
};
const networkData = [{ name: 'InternalApi', name_lower: 'internal_api', ip_subnet: '192.0.2.0/24' }];

function x509Text(pem: string): string {
  return spawnSync('openssl', ['x509', '-noout', '-text'], { input: pem, encoding: 'utf8' }).stdout;
}

function gen(dir: string, vars: Record<string, unknown>, out: string, ca: { create?: boolean; cert?: string; key?: string }) {
  mkdirSync(dir, { recursive: true });
  const opts = writeInputs(dir, { inventory, networkData, env: { parameter_defaults: { IpsecVars: { ipsec_auth: 'cert', ipsec_configure_vips: false, ...vars } } } });
  const r = generate({ ...opts, outDir: out, caCreate: ca.create, caCert: ca.cert, caKey: ca.key });
  writeOutputTreeSync(out, r.eachFile());
  return r;
}

describe('certificate authentication with real libreswan', () => {
  const s = scratchDir();
  const lab = new Lab('c');
  const ns = {} as Record<Host, string>;
  const pluto = {} as Record<Host, Pluto>;
  const explicitOut = join(s.dir, 'explicit');
  const rogueOut = join(s.dir, 'rogue');

  function bringUp(out: string, hosts: Host[], tag: string, nssFrom: Partial<Record<Host, string>> = {}) {
    for (const h of hosts) {
      const d = join(s.dir, `${tag}-${h}`);
      const tree = nssFrom[h] ?? out;
      const imp = spawnSync('bash', [join(tree, h, 'var/lib/tripleo-ipsec/import-certs.sh'), join(d, 'nss')], { encoding: 'utf8' });
      expect(imp.status, imp.stderr).toBe(0);
      pluto[h] = startPluto(lab, ns[h], d, join(out, h, 'etc', 'ipsec.d'));
    }
  }

  beforeAll(() => {
    for (const [i, h] of Object.keys(HOSTS).entries()) {
      ns[h as Host] = lab.addHost(`h${i}`);
      lab.addAddress(ns[h as Host], `${HOSTS[h as Host]}/24`);
    }
    gen(join(s.dir, 'in1'), {}, explicitOut, { create: true });
    // The same overcloud, certificates from another CA: only C's is used below.
    gen(join(s.dir, 'in2'), {}, rogueOut, { create: true });
  }, 120_000);

  afterAll(() => {
    lab.cleanup();
    s.cleanup();
  });

  it('issues certificates openssl reads as asked: subject, SANs, validity, key usage, issuer', () => {
    const ca = x509Text(spawnSync('cat', [join(explicitOut, 'ca/ca.crt')], { encoding: 'utf8' }).stdout);
    expect(ca).toMatch(/CA:TRUE/);
    expect(ca).toMatch(/Certificate Sign, CRL Sign/);
    expect(statSync(join(explicitOut, 'ca/ca.key')).mode & 0o777).toBe(0o600);
    const t = x509Text(spawnSync('cat', [join(explicitOut, A, `var/lib/tripleo-ipsec/${A}.crt`)], { encoding: 'utf8' }).stdout);
    expect(t).toMatch(/Subject: O ?= ?tripleo-ipsec, CN ?= ?overcloud-novacompute-0\.example\.com/);
    expect(t).toMatch(/Issuer: O ?= ?tripleo-ipsec, CN ?= ?tripleo-ipsec overcloud CA/);
    expect(t).toMatch(/IP Address:192\.0\.2\.20/);
    expect(t).toMatch(/DNS:overcloud-novacompute-0\.example\.com/);
    expect(t).toMatch(/Digital Signature, Key Encipherment/);
    expect(t).toMatch(/TLS Web Server Authentication, TLS Web Client Authentication/);
    expect(t).toMatch(/Public-Key: \(3072 bit\)/);
    const nb = new Date(/Not Before: (.*)/.exec(t)![1]).getTime();
    const na = new Date(/Not After : (.*)/.exec(t)![1]).getTime();
    expect(Math.round((na - nb) / 86_400_000)).toBe(825);
    expect(statSync(join(explicitOut, A, `var/lib/tripleo-ipsec/${A}.p12`)).mode & 0o777).toBe(0o600);
    for (const h of [A, B, C]) expect(checkconfigIpsecDir(join(explicitOut, h, 'etc/ipsec.d')).ok).toBe(true);
  });

  it('explicit conns authenticate by RSA signature; a certificate from another CA is refused', async () => {
    bringUp(explicitOut, [A, B, C], 'x', { [C]: rogueOut });
    await waitFor('A and B to authenticate', () => connsWithIkeSa(parsePlutoStatus(whack(lab, pluto[A], ['--status']).stdout)).has(`overcloud-internal_api-to-${B}`), 30_000);
    expect(plutoLog(pluto[A])).toMatch(/authenticated peer '3072-bit RSASSA-PSS with SHA2_512' digital signature using peer certificate 'O=tripleo-ipsec, CN=overcloud-novacompute-1\.example\.com' issued by CA 'O=tripleo-ipsec, CN=tripleo-ipsec overcloud CA'/);
    // C holds a certificate of another CA with the right name: A must refuse it, and C must refuse A.
    await new Promise((r) => setTimeout(r, 3000));
    const sa = parsePlutoStatus(whack(lab, pluto[A], ['--status']).stdout);
    expect(connsWithIkeSa(sa).has(`overcloud-internal_api-to-${C}`)).toBe(false);
    // A (the lower address) initiates; C, whose CA is another, refuses A's certificate and tells A so.
    expect(plutoLog(pluto[C])).toMatch(/"overcloud-internal_api-to-overcloud-novacompute-0" #\d+: authentication failed: no certificate matched RSASSA-PSS with SHA2_512 and 'O=tripleo-ipsec, CN=overcloud-novacompute-0\.example\.com'/);
    expect(plutoLog(pluto[C])).toMatch(/with encrypted notification AUTHENTICATION_FAILED/);
    expect(plutoLog(pluto[A])).toMatch(/"overcloud-internal_api-to-overcloud-novacompute-2" #\d+: IKE SA authentication request rejected by peer: AUTHENTICATION_FAILED/);
    for (const h of [A, B, C]) whack(lab, pluto[h], ['--shutdown']);
  }, 60_000);

  it('apply imports the node\'s certificate and the CA into the NSS database, once', () => {
    const dir = join(s.dir, 'apply-in');
    mkdirSync(dir, { recursive: true });
    const opts = writeInputs(dir, { inventory, networkData, env: { parameter_defaults: { IpsecVars: { ipsec_auth: 'cert', ipsec_configure_vips: false, ipsec_psk: 'apply-psk-0123456789abcdefghijklmnopqrstuv' } } } });
    const root = join(s.dir, 'apply-root');
    const nss = join(s.dir, 'apply-nss');
    const cli = (extra: string[] = []) => spawnSync(process.execPath, [join(__dirname, '..', '..', '..', 'bin', 'tripleo-ipsec'), 'apply', '-i', opts.inventoryPath, '-e', opts.envPaths[0], '--host', A,
      '--root', root, '--ctlsocket', join(s.dir, 'no-pluto.ctl'), '--nssdir', nss, '--set', 'ipsec_skip_firewall_rules=true', ...extra], { encoding: 'utf8' });
    // The CA key stays with the operator: without the host's bundle from generate, apply refuses.
    const refused = cli();
    expect(refused.status).toBe(2);
    expect(refused.stderr).toMatch(/ipsec_auth=cert needs the cluster CA/);
    const bundle = join(explicitOut, A, 'var/lib/tripleo-ipsec');
    const first = cli(['--cert-bundle', bundle]);
    expect(first.status, first.stderr).toBe(0);
    expect(first.stdout).toContain(`imported ${A}.p12 and the cluster CA into ${nss}`);
    const listed = spawnSync('certutil', ['-L', '-d', `sql:${nss}`], { encoding: 'utf8' }).stdout;
    expect(listed).toMatch(new RegExp(`${A}\\s+u,u,u`));
    // pk12util brings the CA in with the chain; certutil -A then sets its trust (NSS keeps the first nickname).
    expect(listed).toMatch(/(?:overcloud-ca|tripleo-ipsec overcloud CA)[^\n]*\s+CT,,/);
    // No secrets line for the certificate: 4.10 takes the key from NSS and ignores `: RSA` (docs/FACTS.md).
    expect(existsSync(join(root, 'etc/ipsec.d/overcloud-cert.secrets'))).toBe(false);
    const again = cli(['--cert-bundle', bundle]);
    expect(again.stdout).toBe(`--root ${root}: an image being built: its files only (pluto, the firewall and the cluster are the booted node's)\nno change\n`);
  });

  it('opportunistic private pairs authenticate by certificate; a clear address needs no negotiation', async () => {
    const oeOut = join(s.dir, 'oe');
    gen(join(s.dir, 'in3'), { use_opportunistic_ipsec: true, ipsec_clear_hosts: ['192.0.2.99'] }, oeOut, { cert: join(explicitOut, 'ca/ca.crt'), key: join(explicitOut, 'ca/ca.key') });
    for (const h of [A, B]) {
      expect(checkconfigIpsecDir(join(oeOut, h, 'etc/ipsec.d')).ok).toBe(true);
    }
    bringUp(oeOut, [A, B], 'oe');
    // what a first packet from A to B would make the kernel ask for
    const t = whack(lab, pluto[A], ['--oppohere', HOSTS[A], '--oppothere', HOSTS[B]], 30_000);
    await waitFor('the opportunistic pair to authenticate', () => parsePlutoStatus(whack(lab, pluto[A], ['--status']).stdout).states.some((x) => x.conn.startsWith('overcloud-private-internal_api') && x.kind === 'ike' && x.established), 30_000).catch((e) => {
      throw new Error(`${e.message}\n${t.stdout}${t.stderr}\n${plutoLog(pluto[A]).split('\n').slice(-20).join('\n')}`);
    });
    expect(plutoLog(pluto[A])).toMatch(/established IKE SA; authenticated peer '3072-bit RSASSA-PSS with SHA2_512' digital signature using peer certificate 'O=tripleo-ipsec, CN=overcloud-novacompute-1\.example\.com'/);
    // Without the clear policy, this would initiate IKE to 192.0.2.99 (inside the private /24).
    const c = whack(lab, pluto[A], ['--oppohere', HOSTS[A], '--oppothere', '192.0.2.99'], 30_000);
    expect(c.stdout + c.stderr + plutoLog(pluto[A])).not.toMatch(/192\.0\.2\.99 #\d+: initiating IKEv2 connection/);
    for (const h of [A, B]) whack(lab, pluto[h], ['--shutdown']);
  }, 90_000);
});
