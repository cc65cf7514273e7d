// Names the CA behind a certificate the gateway refused (B-32: "TLS
// certificate rejected and why" names the issuer). The handshake error does
// not carry the certificate, so one look without verification fetches it; it
// is only done when a line's failure reason changes, never per retry.
import { isIP } from 'node:net';
import tls from 'node:tls';
import type { PeerCertificate } from 'node:tls';

function field(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

/** "CN, O" of an issuer (or subject), whichever parts it has. */
export function issuerName(cert: Pick<PeerCertificate, 'issuer'>): string | undefined {
  const i = cert.issuer as unknown as Record<string, string | string[] | undefined> | undefined;
  if (!i) return undefined;
  const parts = [field(i.CN), field(i.O)].filter((p): p is string => !!p && p.length > 0);
  return parts.length > 0 ? parts.join(', ').slice(0, 200) : undefined;
}

/**
 * Connects to address:port, reads the certificate's issuer and closes;
 * undefined when there is none to read within timeoutMs. Nothing is sent.
 */
export function fetchPeerIssuer(address: string, port: number, servername: string | undefined, timeoutMs = 3000): Promise<string | undefined> {
  return new Promise((resolve) => {
    let done = false;
    const finish = (v: string | undefined) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(v);
    };
    const sni = servername && isIP(servername) !== 0 ? undefined : servername;
    const socket = tls.connect({ host: address, port, servername: sni, rejectUnauthorized: false, minVersion: 'TLSv1' });
    const timer = setTimeout(() => finish(undefined), timeoutMs);
    socket.once('secureConnect', () => finish(issuerName(socket.getPeerCertificate())));
    socket.once('error', () => finish(undefined));
    socket.once('close', () => finish(undefined));
  });
}

