// The network fuzzer's provisioning channel: hostile HTTP/1.1 requests,
// seeded, at the provisioning HTTPS listener (issue 14; team standard "bad
// input"): device file names, other devices' MACs, traversal in its
// encodings, URL tokens guessed, every method, and Authorization headers
// that are garbage, oversized, for an unknown algorithm, or well-formed
// digest answers (on the newest challenge the channel got) with wrong
// passwords for the victim devices; PUT bodies whose length lies; some
// mutated byte by byte. The probe device (its own MAC, from another
// address) is never named here, so no ban can reach it; the probe checks it
// still gets its file between batches.
import { switchboardCli } from '../interop/harness.ts';
import type { Rng } from '../lib/prng.ts';
import { digestAuthorization, digestRequest, type Challenge } from '../integration/provisioning/raw-http.ts';
import { mutate } from './mutate.ts';

export interface FuzzDevice {
  mac: string;
  /** The user it registers (its line). */
  ext: string;
  family: 'avaya-b179' | 'avaya-46xx';
  file: string;
}

export interface DeviceSecrets {
  password: string;
  token: string;
}

/** Adds the devices through the CLI before the server starts; their secrets as `device add` printed them. */
export async function addDevices(dataDir: string, devices: readonly FuzzDevice[]): Promise<Map<string, DeviceSecrets>> {
  const out = new Map<string, DeviceSecrets>();
  for (const d of devices) {
    const r = await switchboardCli(['device', 'add', '--mac', d.mac, '--family', d.family, '--ext', d.ext, '--data-dir', dataDir]);
    const password = /^password: (\S+)$/m.exec(r.stdout)?.[1];
    const token = /\/d\/([A-Za-z0-9_-]{32})\//.exec(r.stdout)?.[1] ?? /^token: (\S+)/m.exec(r.stdout)?.[1];
    if (password === undefined || token === undefined) throw new Error(`device add ${d.mac}: no password or token in\n${r.stdout}`);
    out.set(d.mac, { password, token });
  }
  return out;
}

/** The probe: the device fetches its own file by digest from 127.0.0.1; its HTTP status. */
export async function fetchAsDevice(port: number, ca: Buffer, device: FuzzDevice, secrets: DeviceSecrets): Promise<number> {
  const r = await digestRequest({ port, ca: ca.toString('utf8'), from: '127.0.0.1' }, { path: device.file }, device.mac, secrets.password);
  if (r.status === 200 && !r.body.includes(device.ext)) return -1;
  return r.status;
}

/** Parses a WWW-Authenticate Digest value the channel kept. */
function parseChallenge(value: string | undefined): Challenge | undefined {
  if (value === undefined) return undefined;
  const nonce = /nonce="([^"]*)"/.exec(value)?.[1];
  if (nonce === undefined) return undefined;
  return { nonce, realm: /realm="([^"]*)"/.exec(value)?.[1] ?? '', algorithm: /algorithm=([\w-]+)/.exec(value)?.[1] ?? 'MD5', stale: false };
}

// Mostly what phones send; the few that break framing (the parser closes the
// connection, losing what was pipelined behind) are rarer, so most requests
// reach the authentication and file code.
const METHODS = ['GET', 'GET', 'GET', 'GET', 'GET', 'GET', 'HEAD', 'PUT', 'PUT', 'PUT', 'POST', 'DELETE', 'OPTIONS', 'TRACE', 'PROPFIND', 'CONNECT', 'get'];
const TRAVERSALS = ['/../../etc/passwd', '/%2e%2e/%2e%2e/etc/passwd', '/..%2f..%2fcerts%2fserver.key', '/certs%2fca.key', '/..\\..\\ca.key',
  '/%5c..%5cca.key', '/avayab179.xml%00', '/%zz', '/%c0%ae%c0%ae/x', '//avayab179.xml', '*', 'avayab179.xml', 'http://127.0.0.1/ca.pem'];
const FILES = ['/avayab179.xml', '/46xxsettings.txt', '/11xxsettings.txt', '/ca.pem', '/ca.der', '/ca.crt', '/WebRootCA.pem', '/'];

export class HttpHostileGenerator {
  private lastAuthorization = '';
  private nc = 1;

  /** victims: devices that get wrong passwords (never the probe's). */
  constructor(private readonly rng: Rng, private readonly victims: readonly FuzzDevice[], private readonly victimTokens: readonly string[]) {}

  private int(n: number): number {
    return Math.floor(this.rng() * n);
  }

  private pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)]!;
  }

  private mac(): string {
    const r = this.int(4);
    const v = this.pick(this.victims).mac;
    if (r === 0) return v.toUpperCase();
    if (r === 1) return v.match(/../g)!.join(':');
    return `02${this.int(0xffffffff).toString(16).padStart(10, '0')}`;
  }

  private path(): string {
    switch (this.int(7)) {
      case 0: return this.pick(TRAVERSALS);
      case 1: return `/${this.mac()}${this.pick(['.cfg', '-app.log', '-boot.log', '-upload-CallServer.cfg', '.xml'])}`;
      case 2: return `/d/${this.pick([...this.victimTokens.map((t) => t.slice(0, 31) + 'x'), 'A'.repeat(32), '..', '%2e%2e'])}${this.pick(FILES)}`;
      case 3: return `/${'a'.repeat(1 + this.int(this.int(4) === 0 ? 9000 : 600))}`;
      case 4: return `${this.pick(FILES)}?${'q='.repeat(this.int(50))}`;
      default: return this.pick(FILES);
    }
  }

  private authorization(method: string, uri: string, challenge: Challenge | undefined): string | undefined {
    const victim = this.pick(this.victims);
    switch (this.int(9)) {
      case 0: return undefined;
      case 1: return this.pick(['garbage', 'Digest', 'Digest ,,,', 'Basic AAAA', 'Digest username=', `Digest username="${'x'.repeat(this.int(9000))}"`]);
      case 2: return `Digest ${'a=b, '.repeat(this.int(2000))}username="${victim.mac}"`;
      case 3: return this.lastAuthorization || undefined; // a replay
      default: {
        if (challenge === undefined) return undefined;
        const wrong = digestAuthorization({ username: this.int(3) === 0 ? this.mac() : victim.mac, password: `guess-${this.int(1e9)}`, method, uri, challenge, nc: this.nc++ });
        const a = this.int(4) === 0 ? wrong.replace(/algorithm=[\w-]+/, this.pick(['algorithm=SHA-512', 'algorithm=MD5-sess', 'algorithm=', ''])) : wrong;
        this.lastAuthorization = a;
        return a;
      }
    }
  }

  /** One request; `challenge` is the newest WWW-Authenticate value the channel received. */
  next(challenge: string | undefined, corpus: Buffer[]): Buffer {
    const method = this.pick(METHODS);
    const path = this.path();
    const head = [`${method} ${path} HTTP/1.1`, 'Host: provisioning.fuzz'];
    const auth = this.authorization(method, path, parseChallenge(challenge));
    if (auth !== undefined) head.push(`Authorization: ${auth}`);
    if (this.int(8) === 0) head.push('Connection: close');
    let body = Buffer.alloc(0);
    if (method === 'PUT' || method === 'POST') {
      body = Buffer.alloc(this.int(this.int(4) === 0 ? 4096 : 200), 0x61);
      switch (this.int(4)) {
        case 0: head.push(`Content-Length: ${body.length + this.int(3) - 1}`); break; // lies by one either way
        case 1: head.push('Transfer-Encoding: chunked'); body = Buffer.concat([Buffer.from(`${body.length.toString(16)}\r\n`), body, Buffer.from('\r\n0\r\n\r\n')]); break;
        case 2: head.push(`Content-Length: ${this.pick(['-1', '99999999999', 'abc', '1, 2'])}`); break;
        default: head.push(`Content-Length: ${body.length}`);
      }
    }
    const req = Buffer.concat([Buffer.from(`${head.join('\r\n')}\r\n\r\n`, 'latin1'), body]);
    return this.int(10) === 0 ? mutate(req, this.rng, corpus) : req;
  }
}
