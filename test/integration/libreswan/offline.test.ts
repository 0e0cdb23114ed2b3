// Real libreswan parsers over what we generate: addconn --checkconfig on
// every host tree, and algparse as the judge of our built-in algorithm table.
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { writeOutputTreeSync } from '../../../src/output/outputTree.js';
import { checkconfigIpsecDir } from '../../helpers/checkconfig.js';
import { algparseEsp } from '../../../src/libreswan/algparse.js';
import { checkEspBuiltin, lacksConfidentiality } from '../../../src/model/algorithms.js';
import { generateFrom, scratchDir, small, TEST_PSK } from '../../helpers/inputs.js';

const variants: [string, Record<string, unknown>][] = [
  ['PSK mesh, private', { ipsec_psk: TEST_PSK }],
  ['PSK mesh, private-or-clear, aes256-sha2_512', { ipsec_psk: TEST_PSK, ipsec_policy: 'private-or-clear', ipsec_algorithm: 'aes256-sha2_512' }],
  ['opportunistic, private', { use_opportunistic_ipsec: true }],
  ['opportunistic, private-or-clear', { use_opportunistic_ipsec: true, ipsec_policy: 'private-or-clear' }],
];

describe('ipsec addconn --checkconfig accepts every generated host tree, silently', () => {
  const s = scratchDir();
  afterAll(() => s.cleanup());
  for (const [label, vars] of variants) {
    it(label, () => {
      const { inventory, networkData } = small();
      const r = generateFrom({ inventory, networkData, env: { parameter_defaults: { IpsecVars: vars } } }, { sets: [] });
      const out = join(s.dir, label.replace(/\W+/g, '-'));
      writeOutputTreeSync(out, r.files);
      for (const n of r.overcloud.nodes) {
        const res = checkconfigIpsecDir(join(out, n.name, 'etc', 'ipsec.d'));
        expect(res, `${label}: ${n.name}`).toEqual({ ok: true, status: 0, output: '' });
      }
    });
  }

  it('and the checker does catch a broken file (it can fail)', () => {
    const dir = join(s.dir, 'broken');
    writeOutputTreeSync(dir, [{ path: 'overcloud-x.conf', mode: 0o640, content: 'conn a\n\tauto=sometimes\n' }]);
    expect(checkconfigIpsecDir(dir).ok).toBe(false);
  });
});

describe('the built-in algorithm table agrees with ipsec algparse', () => {
  const corpus = [
    'aes_gcm128-null', 'aes_gcm256-null', 'aes_gcm192-null', 'aes_gcm999-null', 'aes_gcm128-sha2_256', 'aes128-sha2_256',
    'aes256-sha2_512', 'aes128-null', 'aes128', 'aes_gcm128', 'aes_gcm_c256-null', 'aes_gcm_a128-null', 'chacha20_poly1305-null',
    'chacha20_poly1305128-null', '3des-sha1', '3des128-sha1', 'aes_ctr256-sha2_384', 'camellia256-sha2_256', 'aes_ccm_16-null',
    'aes128-sha2_256-modp2048', 'aes128-sha2_256;modp2048', 'aes128-sha2_256-modp9999', 'aes_gcm256-null-dh19', 'rot13-sha1',
    'aes128-whirlpool', 'AES_GCM128-NULL', 'aes128+aes256-sha1', 'aes128-sha2_256+sha1', 'aes_gcm128-null,aes128-sha2_256',
    'aes_gcm128-null,aes999-sha1', 'aes-aes_xcbc', 'aes128-md5', 'aes_gcm256-null-curve25519', 'aes128--sha1', 'aes128-sha1-',
  ];
  for (const alg of corpus) {
    it(alg, () => {
      const real = algparseEsp(alg);
      const ours = checkEspBuiltin(alg);
      expect(ours.ok, `${alg}: algparse says ${real.ok ? 'ok' : real.reason}, built-in says ${ours.ok ? 'ok' : ours.reason}`).toBe(real.ok);
    });
  }

  it('on generated proposals too (fast-check, 300 cases)', () => {
    const enc = fc.constantFrom('aes', 'aes128', 'aes256', 'aes_gcm', 'aes_gcm128', 'aes_gcm256', 'aes_gcm64', '3des', 'chacha20_poly1305', 'aes_ctr192', 'camellia', 'blowfish');
    const integ = fc.constantFrom('', 'null', 'sha1', 'sha2_256', 'sha2_512', 'md5', 'aes_xcbc', 'sha3');
    const dh = fc.constantFrom('', 'modp2048', 'dh19', 'dh20', 'curve25519', 'modp1024x');
    fc.assert(
      fc.property(enc, integ, dh, (e, i, d) => {
        const alg = [e, i, d].filter((x, k) => x !== '' || (k === 1 && d !== '')).join('-').replace(/--/g, '-null-');
        const real = algparseEsp(alg);
        const ours = checkEspBuiltin(alg);
        // Where libreswan accepts a cipher without confidentiality, we refuse on purpose.
        if (real.ok && lacksConfidentiality(alg)) return !ours.ok;
        return ours.ok === real.ok;
      }),
      { numRuns: 300 },
    );
  });
});
