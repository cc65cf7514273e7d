import { randomBytes } from 'node:crypto';
import { MAGIC_COOKIE } from './keys.ts';

// One randomBytes call serves many identifiers: 9 random bytes (72 bits, 12
// base64url characters) each, enough that live branches never collide and an
// off-path attacker cannot guess one to inject responses over UDP.
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

/** A fresh RFC 3261 branch: "z9hG4bK" + 12 base64url characters (all SIP token characters). */
export function generateBranch(): string {
  return MAGIC_COOKIE + randomToken();
}

/** A fresh From/To tag: 12 base64url characters. */
export function generateTag(): string {
  return randomToken();
}
