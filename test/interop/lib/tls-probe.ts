// A bare TLS flow to a server's SIP port: OPTIONS over it, and the
// certificate it was offered (no UA stack: the probe must not depend on what
// is under test beyond the wire).
import tls from 'node:tls';

export function tlsConnect(port: number, host = '127.0.0.1'): Promise<tls.TLSSocket> {
  return new Promise((resolve, reject) => {
    const s = tls.connect({ host, port, rejectUnauthorized: false }, () => resolve(s));
    s.once('error', reject);
  });
}

/** One OPTIONS over an open TLS socket; resolves with the status line of its answer. */
export function optionsOver(sock: tls.TLSSocket, port: number, n: number): Promise<string> {
  const callId = `tls-probe-${n}-${Date.now()}`;
  const msg = [
    'OPTIONS sip:127.0.0.1 SIP/2.0',
    `Via: SIP/2.0/TLS 127.0.0.1:${sock.localPort};branch=z9hG4bK-tls-probe-${n}-${Date.now()};rport`,
    'Max-Forwards: 70', 'From: <sip:probe@127.0.0.1>;tag=1', `To: <sip:127.0.0.1:${port}>`,
    `Call-ID: ${callId}`, `CSeq: ${n} OPTIONS`, 'Content-Length: 0', '', '',
  ].join('\r\n');
  return new Promise((resolve, reject) => {
    let buf = '';
    const onData = (c: Buffer): void => {
      buf += c.toString('latin1');
      if (buf.includes(callId) && buf.includes('\r\n\r\n')) {
        sock.off('data', onData);
        resolve(buf.split('\r\n', 1)[0]!);
      }
    };
    sock.on('data', onData);
    sock.once('error', reject);
    sock.write(msg);
  });
}

/** A fresh TLS connection, one OPTIONS, closed: the status line. */
export async function tlsOptions(port: number): Promise<string> {
  const s = await tlsConnect(port);
  try {
    return await optionsOver(s, port, 1);
  } finally {
    s.destroy();
  }
}
