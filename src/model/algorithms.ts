// Checking an ESP proposal (phase2alg / esp=) before pluto sees it.
// libreswan's own `ipsec algparse` is the authority when it is installed
// (src/libreswan/algparse.ts); this built-in table (pure data) mirrors what
// libreswan 4.10's algparse accepts so that generation on a machine without
// libreswan fails on the same inputs.
// On top of libreswan, we refuse ESP without confidentiality (null, aes_gmac):
// encrypting the overcloud's networks is the point of this tool.

export interface AlgorithmVerdict {
  ok: boolean;
  /** Why it was refused, in libreswan's words where we have them. */
  reason?: string;
}

const KEYLEN_AES = [128, 192, 256];

interface Cipher {
  aead: boolean;
  keylens: number[];
  /** No confidentiality: refused by our policy, not by libreswan. */
  noConfidentiality?: boolean;
}

const CIPHERS: Record<string, Cipher> = {};
function cipher(names: string[], c: Cipher) {
  for (const n of names) CIPHERS[n] = c;
}
cipher(['aes', 'aes_cbc'], { aead: false, keylens: KEYLEN_AES });
cipher(['aes_ctr', 'aesctr'], { aead: false, keylens: KEYLEN_AES });
cipher(['aes_gcm', 'aes_gcm_c', 'aes_gcm_16', 'aes_gcm_b', 'aes_gcm_12', 'aes_gcm_a', 'aes_gcm_8'], {
  aead: true,
  keylens: KEYLEN_AES,
});
cipher(['aes_ccm', 'aes_ccm_c', 'aes_ccm_16', 'aes_ccm_b', 'aes_ccm_12', 'aes_ccm_a', 'aes_ccm_8'], {
  aead: true,
  keylens: KEYLEN_AES,
});
cipher(['3des', '3des_cbc'], { aead: false, keylens: [192] });
cipher(['camellia', 'camellia_cbc', 'camellia_ctr'], { aead: false, keylens: KEYLEN_AES });
cipher(['chacha20_poly1305'], { aead: true, keylens: [256] });
cipher(['null'], { aead: false, keylens: [], noConfidentiality: true });
cipher(['aes_gmac', 'null_auth_aes_gmac'], { aead: true, keylens: KEYLEN_AES, noConfidentiality: true });

const INTEGRITY = new Set([
  'md5', 'hmac_md5', 'md5_96', 'sha', 'sha1', 'sha1_96', 'hmac_sha1',
  'sha2', 'sha256', 'sha2_256', 'sha2_256_128', 'hmac_sha2_256',
  'sha384', 'sha2_384', 'sha2_384_192', 'hmac_sha2_384',
  'sha512', 'sha2_512', 'sha2_512_256', 'hmac_sha2_512',
  'aes_xcbc', 'aes128_xcbc', 'aes_xcbc_96', 'aes128_xcbc_96', 'aes_cmac',
]);
const NO_INTEGRITY = new Set(['null', 'none']);
const DH = new Set([
  'modp1536', 'modp2048', 'modp3072', 'modp4096', 'modp6144', 'modp8192',
  'dh5', 'dh14', 'dh15', 'dh16', 'dh17', 'dh18', 'dh19', 'dh20', 'dh21', 'dh31',
  'ecp_256', 'ecp_384', 'ecp_521', 'ecp256', 'ecp384', 'ecp521', 'curve25519',
  'none', 'null', 'dh0',
]);

function parseCipher(token: string): { name: string; cipher: Cipher; keylen?: number } | string {
  if (CIPHERS[token]) return { name: token, cipher: CIPHERS[token] };
  const m = /^(.*?)_?(\d+)$/.exec(token);
  if (m && CIPHERS[m[1]]) {
    const keylen = Number(m[2]);
    const c = CIPHERS[m[1]];
    if (!c.keylens.includes(keylen)) {
      return `ESP encryption algorithm ${m[1]} with key length ${keylen} invalid; valid key lengths: ${c.keylens.join(', ') || 'none'}`;
    }
    return { name: m[1], cipher: c, keylen };
  }
  return `ESP encryption algorithm '${token}' is not recognized`;
}

function checkProposal(proposal: string): string | undefined {
  // "enc-integ;dh" and "enc-integ-dh" are both accepted by libreswan.
  const [main, dhAfterSemicolon, ...rest] = proposal.split(';');
  if (rest.length > 0) return `too many ';' in proposal '${proposal}'`;
  const parts = main.split('-');
  if (parts.length > 3 || parts.some((p) => p === '')) return `proposal '${proposal}' is not enc[-integ[-dh]]`;
  if (parts.length === 3 && dhAfterSemicolon !== undefined) return `proposal '${proposal}' names two DH groups`;
  const [encPart, integPart, dhPart = dhAfterSemicolon] = parts;
  let aead: boolean | undefined;
  for (const enc of encPart.split('+')) {
    const c = parseCipher(enc);
    if (typeof c === 'string') return c;
    if (c.cipher.noConfidentiality) return `ESP encryption algorithm '${enc}' gives no confidentiality (refused by tripleo-ipsec)`;
    if (aead !== undefined && aead !== c.cipher.aead) return `proposal '${proposal}' mixes AEAD and non-AEAD encryption`;
    aead = c.cipher.aead;
  }
  if (integPart !== undefined) {
    for (const integ of integPart.split('+')) {
      if (NO_INTEGRITY.has(integ)) {
        if (!aead) return `non-AEAD ESP encryption algorithm ${encPart} cannot have 'NONE' as the integrity algorithm`;
      } else if (INTEGRITY.has(integ)) {
        if (aead) return `AEAD ESP encryption algorithm ${encPart} must have 'NONE' as the integrity algorithm`;
      } else {
        return `ESP integrity algorithm '${integ}' is not recognized`;
      }
    }
  }
  if (dhPart !== undefined && dhPart !== '') {
    for (const dh of dhPart.split('+')) if (!DH.has(dh)) return `ESP DH algorithm '${dh}' is not recognized`;
  }
  return undefined;
}

/** Pure check of an ESP proposal list against libreswan 4.10's grammar and tables. */
export function checkEspBuiltin(algorithm: string): AlgorithmVerdict {
  if (!/^[A-Za-z0-9_+;,-]{1,200}$/.test(algorithm)) {
    return { ok: false, reason: 'only letters, digits and _ + - ; , may appear in an ESP proposal' };
  }
  for (const proposal of algorithm.toLowerCase().split(',')) {
    const reason = checkProposal(proposal);
    if (reason) return { ok: false, reason };
  }
  return { ok: true };
}

/** Names of ciphers without confidentiality, which libreswan accepts and we refuse. */
export function lacksConfidentiality(algorithm: string): boolean {
  return algorithm
    .toLowerCase()
    .split(',')
    .some((p) => p.split(/[;-]/)[0].split('+').some((enc) => {
      const c = parseCipher(enc);
      return typeof c !== 'string' && !!c.cipher.noConfidentiality;
    }));
}
