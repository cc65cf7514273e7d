import { createHash } from 'node:crypto';
import type { DigestAlgorithm } from './types.ts';

const NODE_HASH: Record<DigestAlgorithm, string> = {
  'MD5': 'md5',
  'SHA-256': 'sha256',
  'SHA-512-256': 'sha512-256',
};

/**
 * HA1 = H(username ":" realm ":" password) (RFC 2617 §3.2.2.2, RFC 7616 §3.4.2),
 * lower-case hex. Computing it costs a hash per call: the caller caches it per
 * (user, realm, algorithm) and drops the entry when the user changes.
 */
export function ha1(user: { readonly authUser: string; readonly password: string }, realm: string, alg: DigestAlgorithm): string {
  return createHash(NODE_HASH[alg]).update(`${user.authUser}:${realm}:${user.password}`, 'utf8').digest('hex');
}
