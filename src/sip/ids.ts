// Fresh random identifiers for the messages we originate: Via branch (RFC 3261
// §8.1.1.7), From/To tags (§19.3) and Call-ID (§8.1.1.4).
//
// They come from one shared pool of CSPRNG bytes, so the hot path (a tag per
// response, a branch per request) does not call into node:crypto each time.
// Identifiers are base64url, whose alphabet is all SIP token characters (and
// legal in a Call-ID word), so they need no quoting or escaping anywhere.

import { randomBytes } from 'node:crypto';
import { ownerPrefix } from './owner.ts';

/** The RFC 3261 branch prefix (§8.1.1.7) that marks a branch as globally unique. */
export const MAGIC_COOKIE = 'z9hG4bK';

// 9 bytes (72 bits, 12 base64url characters, no padding) per branch or tag:
// enough that live ones never collide and an off-path attacker cannot guess
// one to inject responses over UDP. A Call-ID takes two such draws.
const BYTES_PER_ID = 9;
const POOL_IDS = 512;
let pool = Buffer.alloc(0);
let offset = 0;

function randomToken(): string {
  if (offset + BYTES_PER_ID > pool.length) {
    pool = randomBytes(BYTES_PER_ID * POOL_IDS);
    offset = 0;
  }
  const s = pool.toString('base64url', offset, offset + BYTES_PER_ID);
  offset += BYTES_PER_ID;
  return s;
}

/** A fresh branch: "z9hG4bK" + the owner prefix in a cluster (owner.ts) + 12 base64url characters. */
export function generateBranch(): string {
  return MAGIC_COOKIE + ownerPrefix() + randomToken();
}

/** A fresh From/To tag: the owner prefix in a cluster (owner.ts) + 12 base64url characters. */
export function generateTag(): string {
  return ownerPrefix() + randomToken();
}

/**
 * A fresh Call-ID: 24 base64url characters (144 random bits, since a Call-ID
 * must be unique across all user agents and all time), optionally followed by
 * "@" + `host` (the "localid@host" form of §8.1.1.4; `host` must be a valid
 * Call-ID word, e.g. a host name or an IPv4 address or bracketed IPv6 reference).
 */
export function generateCallId(host?: string): string {
  const id = randomToken() + randomToken();
  return host === undefined || host.length === 0 ? id : id + '@' + host;
}
