// Why a line is not registered, in a technician's words (SPEC B-32, EC-04,
// EC-03, EC-11, EC-12, D-08): a RegisterFailure becomes a stable FailureCode
// and one sentence naming what to look at; and how long to wait before the
// next attempt for each reason.
import { isIP } from 'node:net';
import type { FailureCode } from '../model/gateway.ts';
import type { RegisterFailure } from '../sip/ua/register-client.ts';
import { classifyTlsError } from '../security/tls-policy.ts';

export interface LineFailure {
  code: FailureCode;
  text: string;
  /** The final SIP status, 0 when there was none. */
  status: number;
}

export interface FailureContext {
  /** The target of the attempt as "transport:host:port" (host = the name dialled, or the IP). */
  dialled?: string;
  /** The host name or IP literal the certificate had to carry (D-07, EC-11). */
  host?: string;
  /** Every target tried without an answer (for 'no-answer'). */
  tried?: readonly string[];
  /** The digest user sent. */
  authUser?: string;
  legacyTls: boolean;
  /** The issuer of the certificate the upstream presented, when it could be read. */
  issuer?: string;
  /** The resolver's sentence when nothing resolved (no hop). */
  dnsError?: string;
}

/** After refused credentials: slow, so repeated bad passwords do not lock the directory account (D-08). */
export const WRONG_PASSWORD_RETRY_MS = 5 * 60_000;
/** Other failures back off from 5 s, doubling, up to this. */
export const MAX_RETRY_MS = 5 * 60_000;
const FIRST_RETRY_MS = 5_000;

const REFUSED_CODES = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'EADDRNOTAVAIL', 'ETIMEDOUT', 'ECONNRESET', 'EPIPE', 'ECONNABORTED']);
const DNS_CODES = new Set(['ENOTFOUND', 'EAI_AGAIN', 'ENODATA', 'ESERVFAIL', 'ENONAME']);

function list(items: readonly string[] | undefined): string {
  return items && items.length > 0 ? items.join(', ') : 'none';
}

/** The failure of one line's registration as its code and sentence. */
export function describeFailure(f: RegisterFailure, ctx: FailureContext): LineFailure {
  const where = ctx.dialled ?? 'the upstream';
  if (f.kind === 'response') {
    const status = f.status;
    // The register client's reason is already the whole status line ("401 Unauthorized").
    const said = f.reason.trim() || String(status);
    if (f.credentialsRefused || status === 403) {
      const who = ctx.authUser ? `auth user ${ctx.authUser}` : 'the line';
      return {
        code: 'wrong-password',
        status,
        text: `wrong password: ${where} refused the credentials of ${who} (${said}); retrying every ${WRONG_PASSWORD_RETRY_MS / 60_000} minutes so the upstream account is not locked`,
      };
    }
    if (status === 401 || status === 407) {
      return { code: 'rejected', status, text: `${where} asks for a password and the line has none (${said}): set one, or make this gateway a trusted server upstream` };
    }
    if (status === 404) return { code: 'not-found', status, text: `${where} does not know this user (${said}): check the upstream user and domain` };
    return { code: 'rejected', status, text: `${where} refused the registration (${said})` };
  }
  if (f.kind === 'timeout') {
    return { code: 'no-answer', status: 0, text: `no answer from any proxy (tried ${list(ctx.tried ?? (ctx.dialled ? [ctx.dialled] : []))})` };
  }
  if (f.kind === 'no-hop' && (ctx.dnsError || !f.error)) {
    if (ctx.dnsError) return { code: 'dns', status: 0, text: `DNS: ${ctx.dnsError}` };
    return { code: 'no-answer', status: 0, text: `no answer from any proxy: every target is blacklisted after timeouts (tried ${list(ctx.tried)})` };
  }
  // A transport error, or a flow that could not open (no hop, with the error).
  return transportFailure(f.error, where, ctx);
}

function transportFailure(err: Error | undefined, where: string, ctx: FailureContext): LineFailure {
  const code = (err as { code?: unknown } | undefined)?.code;
  if (typeof code === 'string' && DNS_CODES.has(code)) {
    return { code: 'dns', status: 0, text: `DNS: ${ctx.host ?? where} does not resolve [${code}]` };
  }
  if (typeof code === 'string' && REFUSED_CODES.has(code)) {
    return { code: 'refused', status: 0, text: `connection to ${where} refused or cut [${code}]: is the upstream running and the port right?` };
  }
  if (typeof code !== 'string' || !(code.startsWith('ERR_') || /^[A-Z_]+$/.test(code))) {
    return { code: 'refused', status: 0, text: `cannot reach ${where}: ${err?.message ?? 'transport error'}` };
  }
  const tls = classifyTlsError(err, { legacyTls: ctx.legacyTls });
  switch (tls.category) {
    case 'trust':
      return {
        code: 'tls-trust',
        status: 0,
        text: `TLS: the certificate of ${where} is issued by ${ctx.issuer ? `"${ctx.issuer}"` : 'a CA'} this gateway does not trust: import that CA (switchboard cert trust add) [${tls.message}]`,
      };
    case 'hostname':
      return {
        code: 'tls-name',
        status: 0,
        text: `TLS: the certificate of ${where} does not name ${ctx.host ?? 'the host dialled'}, the ${ctx.host && isIP(ctx.host.replace(/^\[|\]$/g, '')) !== 0 ? 'IP address' : 'name'} dialled [${tls.message}]`,
      };
    case 'version':
    case 'cipher':
      return {
        code: 'tls-version',
        status: 0,
        text: `TLS: no version or cipher suite in common with ${where}${ctx.legacyTls ? '' : '; an old upstream may need the legacy TLS switch (gateway set --legacy-tls on)'} [${tls.message}]`,
      };
    case 'clock':
      return { code: 'clock', status: 0, text: `clock problem: the certificate of ${where} is outside its validity; check the date and NTP here and upstream [${tls.message}]` };
    case 'network':
      return { code: 'refused', status: 0, text: `connection to ${where} cut during the TLS handshake [${tls.message}]` };
    default:
      return { code: 'tls-other', status: 0, text: `TLS with ${where} failed: ${tls.message}` };
  }
}

/**
 * Wait before the next attempt after `consecutive` failures in a row (1 for
 * the first): never a tight loop; a refused password waits long (D-08).
 */
export function retryDelayMs(code: FailureCode, consecutive: number): number {
  if (code === 'wrong-password') return WRONG_PASSWORD_RETRY_MS;
  const n = Math.max(0, Math.min(consecutive - 1, 16));
  return Math.min(FIRST_RETRY_MS * 2 ** n, MAX_RETRY_MS);
}
