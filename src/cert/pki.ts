// The cluster's own CA and a certificate per host, issued with openssl (a
// maintained implementation: no hand-written ASN.1). Private keys only ever
// exist in 0600 files of a private temporary directory and in the outputs
// (0600); no secret is passed on a command line (PKCS#12 bundles are
// written with an empty password, as pk12util imports them with -W '').
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { X509Certificate } from 'node:crypto';
import { InputError } from '../model/errors.js';
import { runCommandSync } from '../system/command.js';
import { certNames } from '../model/names.js';
import type { HostCertificate } from '../model/types.js';

const ORG = certNames.org;
const RSA_BITS = '3072'; // authby=rsasig wants RSA keys
const HOST_DAYS = '825';
const CA_DAYS = '3650';

export interface Ca {
  certPem: string;
  keyPem: string;
}

/** A certificate is re-issued once it is this close to expiry. */
const RENEW_BEFORE_MS = 30 * 24 * 3600 * 1000;

function openssl(args: string[], cwd: string) {
  const r = runCommandSync({ what: `openssl ${args[0]}`, argv: ['openssl', ...args], cwd, timeoutMs: 60_000 });
  // Bad input (a CA that is not one, a key that does not match) is what makes openssl fail here.
  if (r.exitCode !== 0) throw new InputError(`openssl ${args[0]} failed: ${(r.stderr || '').trim().split('\n')[0]}`);
}

function withScratch<T>(fn: (dir: string) => T): T {
  const dir = mkdtempSync(join(tmpdir(), 'tripleo-ipsec-pki-'));
  chmodSync(dir, 0o700);
  try {
    return fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function createCa(): Ca {
  return withScratch((d) => {
    openssl(['req', '-x509', '-newkey', `rsa:${RSA_BITS}`, '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt', '-days', CA_DAYS,
      '-subj', `/O=${ORG}/CN=${ORG} overcloud CA`, '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'], d);
    return { certPem: readFileSync(join(d, 'ca.crt'), 'utf8'), keyPem: readFileSync(join(d, 'ca.key'), 'utf8') };
  });
}

/** A certificate for `host` (CN = its FQDN, SANs = its addresses and name), signed by `ca`. */
export function issueHostCert(ca: Ca, host: string, fqdn: string, addresses: string[]): HostCertificate {
  return withScratch((d) => {
    writeFileSync(join(d, 'ca.crt'), ca.certPem);
    writeFileSync(join(d, 'ca.key'), ca.keyPem, { mode: 0o600 });
    const san = [...addresses.map((a) => `IP:${a}`), `DNS:${fqdn}`].join(',');
    writeFileSync(join(d, 'ext.cnf'), `subjectAltName=${san}\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth,clientAuth\nbasicConstraints=critical,CA:FALSE\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid,issuer\n`);
    openssl(['req', '-newkey', `rsa:${RSA_BITS}`, '-nodes', '-keyout', 'host.key', '-out', 'host.csr', '-subj', `/O=${ORG}/CN=${fqdn}`], d);
    openssl(['x509', '-req', '-in', 'host.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-set_serial', `0x${Buffer.from(crypto.getRandomValues(new Uint8Array(16))).toString('hex')}`,
      '-days', HOST_DAYS, '-extfile', 'ext.cnf', '-out', 'host.crt'], d);
    const nickname = certNames.nickname(host);
    openssl(['pkcs12', '-export', '-inkey', 'host.key', '-in', 'host.crt', '-certfile', 'ca.crt', '-name', nickname, '-passout', 'pass:', '-out', 'host.p12'], d);
    return { nickname, certPem: readFileSync(join(d, 'host.crt'), 'utf8'), p12: readFileSync(join(d, 'host.p12')), caCertPem: ca.certPem };
  });
}

/**
 * An earlier run's certificate for `host`, when it can stay: signed by this
 * CA, for the same subject, names and addresses, and more than 30 days from
 * expiry. undefined: issue a new one.
 */
export function reusableHostCert(earlier: { p12: Buffer; certPem: string }, ca: Ca, host: string, fqdn: string, addresses: string[], now = Date.now()): HostCertificate | undefined {
  let cert: X509Certificate;
  let caCert: X509Certificate;
  try {
    cert = new X509Certificate(earlier.certPem);
    caCert = new X509Certificate(ca.certPem);
  } catch {
    return undefined;
  }
  if (!cert.checkIssued(caCert) || !cert.verify(caCert.publicKey)) return undefined;
  if (cert.subject !== `O=${ORG}\nCN=${fqdn}`) return undefined;
  const want = [...addresses.map((a) => `IP Address:${canonicalSan(a)}`), `DNS:${fqdn}`].sort();
  const have = (cert.subjectAltName ?? '').split(', ').map((x) => (x.startsWith('IP Address:') ? `IP Address:${canonicalSan(x.slice(11))}` : x)).sort();
  if (want.join(',') !== have.join(',')) return undefined;
  if (Date.parse(cert.validTo) - now < RENEW_BEFORE_MS) return undefined;
  return { nickname: certNames.nickname(host), p12: earlier.p12, certPem: earlier.certPem, caCertPem: ca.certPem };
}

/** An address as it appears in a SAN, comparable (openssl prints IPv6 in full, upper case). */
function canonicalSan(a: string): string {
  if (!a.includes(':')) return a;
  try {
    return new URL(`http://[${a}]/`).hostname.slice(1, -1);
  } catch {
    return a;
  }
}
