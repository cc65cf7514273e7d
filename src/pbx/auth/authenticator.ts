import type { Endpoint, Header, SipRequest } from '../../sip/message.ts';
import type { InboundSource } from '../../sip/transport/types.ts';
import type { DigestServer } from '../../sip/digest.ts';
import { parseAuthHeader } from '../../sip/digest.ts';
import type { AuthHeader } from '../../sip/digest.ts';
import { getHeaders } from '../../sip/headers.ts';
import type { AuthGuard } from '../../security/auth-guard.ts';
import type { User } from '../../store/types.ts';
import type { Directory } from '../directory/directory.ts';

/** `failed`: credentials were presented and refused (what the call log may record, in words); absent for a first challenge. */
export type AuthRejection = { kind: 'reject'; status: number; reason: string; headers?: Header[]; failed?: { username: string; why: string } };
export type AuthOutcome = { kind: 'ok'; user: User } | AuthRejection;

/** Who watches the outcomes (the extension detail's last failure and last seen); both must be cheap. */
export interface AuthObserver {
  authenticated(user: User, req: SipRequest, source: Endpoint): void;
  refused(r: { reason: 'wrong-password' | 'unknown-user' | 'disabled' | 'banned' | 'transport' | 'wrong-user'; user: User | undefined; name: string; req: SipRequest; source: Endpoint; retryAfterSec?: number; detail?: string }): void;
}

/**
 * Digest authentication of requests from users (RFC 3261 §22): 401 for the
 * registrar, 407 for requests we route. Every answer is the same for an
 * unknown user as for a known user with a wrong password, and the auth guard
 * only ever sees failed verifications, never the first challenge round, so a
 * gateway registering thousands of users from one address is never slowed.
 */
export class Authenticator {
  constructor(
    private readonly digest: DigestServer,
    private readonly guard: AuthGuard,
    private readonly directory: Directory,
    readonly observer?: AuthObserver,
    /**
     * Who the transport itself proved the source to be, when that peer may
     * act for our users without a digest (a trusted server over mutual TLS,
     * SPEC D-06), else undefined. Called per request: must be cheap.
     */
    private readonly transportIdentity: (source: InboundSource) => string | undefined = () => undefined,
  ) {}

  /**
   * Requests screen() verified, until their handler's authenticate(): a
   * second verification of the same credentials would be a nonce-count replay.
   */
  private readonly verified = new WeakMap<SipRequest, User>();

  /**
   * Authenticates a request before any transaction exists for it (the
   * stateless challenge of RFC 3261 §8.2.7): returns the rejection to send
   * statelessly, or undefined when the credentials are good; the next
   * authenticate() of the same request then returns that user as it is.
   */
  screen(req: SipRequest, source: Endpoint, role: 'registrar' | 'proxy'): AuthRejection | undefined {
    const outcome = this.verify(req, source, role);
    if (outcome.kind === 'reject') return outcome;
    this.verified.set(req, outcome.user);
    return undefined;
  }

  authenticate(req: SipRequest, source: Endpoint, role: 'registrar' | 'proxy'): AuthOutcome {
    const screened = this.verified.get(req);
    if (screened !== undefined) {
      this.verified.delete(req);
      return { kind: 'ok', user: screened };
    }
    return this.verify(req, source, role);
  }

  private verify(req: SipRequest, source: InboundSource, role: 'registrar' | 'proxy'): AuthOutcome {
    if (source.tlsPeer !== undefined) {
      const byTransport = this.byTransport(req, source, role);
      if (byTransport !== undefined) return byTransport;
    }
    const sourceIp = source.address;
    const credentials = this.findCredentials(req, role);
    if (!credentials) return this.challenge(role, false, sourceIp);
    const { value, username } = credentials;
    const verdict = this.guard.check(sourceIp, username);
    if (!verdict.allowed) {
      this.observer?.refused({ reason: 'banned', user: this.directory.byAuthUser(username), name: username, req, source, retryAfterSec: verdict.retryAfterSec });
      return { kind: 'reject', status: 403, reason: 'Forbidden', failed: { username, why: 'locked out after repeated wrong passwords' } };
    }
    const result = this.digest.verify(value, req.method, req.uriRaw, (u, realm, alg) => this.directory.ha1(u, realm, alg), {
      bind: sourceIp,
    });
    switch (result.kind) {
      case 'ok': {
        const user = this.directory.byAuthUser(result.username);
        if (!user) return this.challenge(role, false, sourceIp); // removed between lookup and now
        this.guard.recordSuccess(sourceIp, username);
        this.observer?.authenticated(user, req, source);
        return { kind: 'ok', user };
      }
      case 'stale':
        return this.challenge(role, true, sourceIp);
      case 'fail':
        if (result.reason === 'response') {
          this.guard.recordFailure(sourceIp, username);
          if (this.observer) {
            // Only here, off the success path: which of the three it was (the answer to the phone stays the same).
            const user = this.directory.byAuthUser(username);
            this.observer.refused({ reason: !user ? 'unknown-user' : user.enabled ? 'wrong-password' : 'disabled', user, name: username, req, source });
          }
          return { ...this.challenge(role, false, sourceIp), failed: { username, why: 'wrong password' } };
        }
        // A nonce we did not issue (e.g. from before a restart) needs no new password: say stale.
        if (result.reason === 'nonce') return this.challenge(role, true, sourceIp);
        return { kind: 'reject', status: 403, reason: 'Forbidden', failed: { username, why: `credentials refused (${result.reason})` } };
      case 'malformed':
        return { kind: 'reject', status: 400, reason: 'Bad Authorization Header' };
    }
  }

  /**
   * A trusted server speaks for the user the request names (REGISTER: the
   * To user, the registered AOR; anything else: the From user), with no
   * challenge and outside the auth guard: its requests are a server's, many
   * users from one address, and no wrong password can come from it. A user
   * we do not have (or a request from an untrusted peer) goes the digest way.
   */
  private byTransport(req: SipRequest, source: InboundSource, role: 'registrar' | 'proxy'): AuthOutcome | undefined {
    if (this.transportIdentity(source) === undefined) return undefined;
    const extension = (role === 'registrar' ? req.to : req.from).uri.user;
    const user = extension === undefined ? undefined : this.directory.byExtension(extension);
    if (user === undefined) return undefined;
    if (!user.enabled) {
      this.observer?.refused({ reason: 'disabled', user, name: user.authUser, req, source });
      return { kind: 'reject', status: 403, reason: 'Forbidden', failed: { username: user.authUser, why: 'account disabled' } };
    }
    this.observer?.authenticated(user, req, source);
    return { kind: 'ok', user };
  }

  /** The Digest credentials for our realm; others (another proxy's, unknown schemes) are ignored. */
  private findCredentials(req: SipRequest, role: 'registrar' | 'proxy'): { value: AuthHeader; username: string } | undefined {
    const values = getHeaders(req, role === 'registrar' ? 'authorization' : 'proxy-authorization');
    for (const value of values) {
      const parsed = parseAuthHeader(value);
      if (!parsed || parsed.scheme.toLowerCase() !== 'digest') continue;
      if (parsed.params.get('realm') !== this.digest.realm) continue;
      const username = parsed.params.get('username');
      if (username === undefined) continue;
      return { value: parsed, username };
    }
    return undefined;
  }

  /** Nonces are bound to the source address, so a spoofed request from elsewhere cannot use them (nor get a handset banned). */
  private challenge(role: 'registrar' | 'proxy', stale: boolean, sourceIp: string): AuthRejection {
    const name = role === 'registrar' ? 'www-authenticate' : 'proxy-authenticate';
    const headers = this.digest.challenge({ stale, bind: sourceIp }).map((value) => ({ name, value }));
    return role === 'registrar'
      ? { kind: 'reject', status: 401, reason: 'Unauthorized', headers }
      : { kind: 'reject', status: 407, reason: 'Proxy Authentication Required', headers };
  }
}
