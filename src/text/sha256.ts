// SHA-256 in hex, the one digest of files and conn definitions. A 500-node
// mesh digests about two million short strings: crypto.hash (Node 20.12+),
// one call with no Hash object, is about twice as fast as createHash for them.
import * as crypto from 'node:crypto';

type OneShot = (algorithm: string, data: string | Buffer, outputEncoding: 'hex') => string;
const oneShot = (crypto as unknown as { hash?: OneShot }).hash;

export const sha256 = (data: string | Buffer): string => (oneShot ? oneShot('sha256', data, 'hex') : crypto.createHash('sha256').update(data).digest('hex'));
