// Via header values (RFC 3261 §20.42): "SIP / 2.0 / UDP host:port;params",
// LWS allowed around every '/' and ':' (RFC 4475 wsinv), several values per
// line separated by commas.

import type { Params, Via } from './message.ts';
import { formatParams, parseParamsAt } from './params.ts';
import { isDigit, isIpv6Char, isWs, lowerSlice, readHost, scanToken, skipWs } from './syntax.ts';

const SIP20 = 'SIP/2.0';
const KNOWN_UPPER = ['UDP', 'TCP', 'TLS', 'SIP', 'WSS', 'SCTP', 'WS'];

/** Upper-cased token s[a, b), returning a shared constant for the usual transports. */
function upperToken(s: string, a: number, b: number): string {
  for (const k of KNOWN_UPPER) {
    if (k.length !== b - a) continue;
    let i = 0;
    while (i < k.length && (s.charCodeAt(a + i) & 0xdf) === k.charCodeAt(i)) i++;
    if (i === k.length) return k;
  }
  return s.slice(a, b).toUpperCase();
}

/**
 * Parse one Via value at s[i]. Returns the index after it (a ',' or the end)
 * or -1 when malformed. The value is appended to `out`.
 */
function parseViaAt(s: string, i: number, out: Via[]): number {
  const len = s.length;
  i = skipWs(s, i);
  const ps = i;
  i = scanToken(s, i);
  if (i === ps) return -1;
  const protoName = i - ps === 3 ? upperToken(s, ps, i) : s.slice(ps, i);
  i = skipWs(s, i);
  if (s.charCodeAt(i) !== 0x2f) return -1;
  i = skipWs(s, i + 1);
  const vs = i;
  i = scanToken(s, i);
  if (i === vs) return -1;
  const version = s.slice(vs, i);
  i = skipWs(s, i);
  if (s.charCodeAt(i) !== 0x2f) return -1;
  i = skipWs(s, i + 1);
  const ts = i;
  i = scanToken(s, i);
  if (i === ts) return -1;
  const transport = upperToken(s, ts, i);
  if (!isWs(s.charCodeAt(i))) return -1;
  i = skipWs(s, i);
  const hs = i;
  let host: string;
  if (s.charCodeAt(i) === 0x5b) {
    i++;
    while (i < len && isIpv6Char(s.charCodeAt(i))) i++;
    if (s.charCodeAt(i) !== 0x5d || i === hs + 1) return -1;
    i++;
    host = lowerSlice(s, hs, i);
  } else {
    host = readHost(s, i);
    if (host.length === 0) return -1;
    i += host.length;
  }
  let port: number | undefined;
  let j = skipWs(s, i);
  if (s.charCodeAt(j) === 0x3a) {
    j = skipWs(s, j + 1);
    let n = 0;
    const ds = j;
    while (j < len && isDigit(s.charCodeAt(j))) {
      n = n * 10 + s.charCodeAt(j) - 0x30;
      if (n > 65535) return -1;
      j++;
    }
    if (j === ds) return -1;
    port = n;
    i = j;
  }
  const params: Params = new Map();
  i = parseParamsAt(s, i, params);
  if (i < 0) return -1;
  i = skipWs(s, i);
  if (i < len && s.charCodeAt(i) !== 0x2c) return -1;
  const protocol = protoName === 'SIP' && version === '2.0' ? SIP20 : protoName.toUpperCase() + '/' + version;
  const via: Via = { protocol, transport, host, params };
  if (port !== undefined) via.port = port;
  out.push(via);
  return i;
}

/**
 * Parse every Via value of one header line into `out`. False when any value
 * is malformed, including empty list elements (RFC 4475 badinv01).
 */
export function parseViaList(s: string, out: Via[]): boolean {
  let i = 0;
  for (;;) {
    i = parseViaAt(s, i, out);
    if (i < 0) return false;
    if (i >= s.length) return true;
    i++;
  }
}

/** Parse a single Via value (for helpers); undefined when malformed or a list. */
export function parseVia(s: string): Via | undefined {
  const out: Via[] = [];
  if (!parseViaList(s, out) || out.length !== 1) return undefined;
  return out[0];
}

/** Wire form "SIP/2.0/UDP host:port;params". */
export function formatVia(via: Via): string {
  let out = via.protocol + '/' + via.transport + ' ' + via.host;
  if (via.port !== undefined) out += ':' + via.port;
  return out + formatParams(via.params);
}
