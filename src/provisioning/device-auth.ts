// Who is asking the provisioning server: HTTP Digest (RFC 7616: SHA-256 and
// MD5, qop=auth, stateless nonces bound to the source address, the SIP
// server's DigestServer) with the device's MAC as user name and its own
// password, or a per-device URL token. Wrong passwords and unknown tokens
// count as failures in an AuthGuard of its own, so one source cannot guess
// for long.
import { ha1, DigestServer, parseAuthHeader } from '../sip/digest.ts';
import { AuthGuard } from '../security/auth-guard.ts';
import { normaliseMac, type DeviceView } from '../model/device.ts';
import type { DeviceRepository, DeviceSecrets } from '../store/types.ts';

export type AuthOutcome =
  | { kind: 'device'; device: DeviceView; secrets: DeviceSecrets }
  /** 401 with a fresh challenge; result says why, in words, for the request log. */
  | { kind: 'challenge'; stale: boolean; mac: string | null; result: string }
  /** 429: this source has failed too often. */
  | { kind: 'banned'; mac: string | null; retryAfterSec: number }
  /** A token nobody has: 404, as for a file that does not exist. */
  | { kind: 'unknown-token' };

export interface DeviceAuthOptions {
  devices: Pick<DeviceRepository, 'withSecrets' | 'byToken'>;
  now: () => number;
  /** Digest realm phones see. */
  realm: string;
  /** Nonce lifetime; default 300 s. */
  nonceTtlMs?: number;
  /** Failures of one source for one device (or one source's token guesses) before it is refused for banMs. */
  failures?: number;
  banMs?: number;
}

/** The guard's user name for URL token guesses: every wrong token from one source counts against that pair. */
const TOKEN_KEY = '\0url-token';

export class DeviceAuth {
  private readonly digest: DigestServer;
  readonly guard: AuthGuard;

  constructor(private readonly o: DeviceAuthOptions) {
    this.digest = new DigestServer({ realm: o.realm, now: o.now, nonceTtlMs: o.nonceTtlMs, algorithms: ['SHA-256', 'MD5'] });
    const rule = { maxFailures: o.failures ?? 5, windowMs: 300_000, banMs: o.banMs ?? 300_000 };
    this.guard = new AuthGuard({ now: o.now, pair: rule, user: { ...rule, maxFailures: 50 }, ip: { ...rule, maxFailures: 20 }, maxEntries: 20_000 });
  }

  /** WWW-Authenticate values: SHA-256 first, then MD5 (RFC 7616 §3.7). */
  challenge(source: string, stale = false): string[] {
    return this.digest.challenge({ bind: source, stale });
  }

  async byDigest(header: string | undefined, method: string, uri: string, source: string): Promise<AuthOutcome> {
    if (header === undefined) return { kind: 'challenge', stale: false, mac: null, result: 'challenged' };
    const parsed = parseAuthHeader(header);
    const username = parsed?.params.get('username');
    if (!parsed || parsed.scheme.toLowerCase() !== 'digest' || username === undefined) {
      return { kind: 'challenge', stale: false, mac: null, result: 'refused: no digest credentials' };
    }
    const mac = normaliseMac(username) ?? null;
    const key = mac ?? username;
    const verdict = this.guard.check(source, key);
    if (!verdict.allowed) return { kind: 'banned', mac, retryAfterSec: verdict.retryAfterSec ?? 60 };
    const found = mac === null ? undefined : await this.o.devices.withSecrets(mac);
    const v = this.digest.verify(parsed, method, uri,
      (user, realm, algorithm) => (found ? ha1(user, realm, found.secrets.password, algorithm) : undefined), { bind: source });
    switch (v.kind) {
      case 'ok':
        this.guard.recordSuccess(source, key);
        return { kind: 'device', device: found!.device, secrets: found!.secrets };
      case 'stale':
        return { kind: 'challenge', stale: true, mac, result: 'challenged again: nonce stale' };
      case 'fail':
        if (v.reason === 'response') {
          this.guard.recordFailure(source, key);
          return { kind: 'challenge', stale: false, mac: found ? mac : null, result: found ? 'refused: wrong password' : 'refused: unknown device' };
        }
        // A nonce we did not issue (a restart) says nothing of the password: stale spares the phone a prompt.
        return { kind: 'challenge', stale: v.reason === 'nonce', mac, result: `refused: digest ${v.reason} does not match` };
      case 'malformed':
        return { kind: 'challenge', stale: false, mac, result: `refused: malformed credentials (${v.reason})` };
    }
  }

  async byToken(token: string, source: string): Promise<AuthOutcome> {
    const verdict = this.guard.check(source, TOKEN_KEY);
    if (!verdict.allowed) return { kind: 'banned', mac: null, retryAfterSec: verdict.retryAfterSec ?? 60 };
    const found = await this.o.devices.byToken(token);
    if (!found) {
      this.guard.recordFailure(source, TOKEN_KEY);
      return { kind: 'unknown-token' };
    }
    return { kind: 'device', device: found.device, secrets: found.secrets };
  }
}
