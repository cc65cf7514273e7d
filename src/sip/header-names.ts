// Header name canonicalisation: the parser stores every name in lower-case
// long form ("v", "VIA", "Via" -> "via"); the serializer writes the
// conventional spelling back. Lookups are Map hits, not regexes: this runs
// once per header line of every message.

/** Conventional wire spelling of the headers we know, keyed by canonical name. */
const WIRE_NAMES: readonly string[] = [
  'Accept', 'Accept-Contact', 'Accept-Encoding', 'Accept-Language', 'Accept-Resource-Priority',
  'Alert-Info', 'Allow', 'Allow-Events', 'Authentication-Info', 'Authorization', 'Call-ID',
  'Call-Info', 'Contact', 'Content-Disposition', 'Content-Encoding', 'Content-ID',
  'Content-Language', 'Content-Length', 'Content-Transfer-Encoding', 'Content-Type', 'CSeq',
  'Date', 'Diversion', 'Error-Info', 'Event', 'Expires', 'Flow-Timer', 'From', 'Geolocation',
  'History-Info', 'Identity', 'Identity-Info', 'In-Reply-To', 'Join', 'Max-Breadth',
  'Max-Forwards', 'MIME-Version', 'Min-Expires', 'Min-SE', 'Organization',
  'P-Access-Network-Info', 'P-Asserted-Identity', 'P-Associated-URI', 'P-Called-Party-ID',
  'P-Charging-Vector', 'P-Early-Media', 'P-Preferred-Identity', 'Path', 'Priority', 'Privacy',
  'Proxy-Authenticate', 'Proxy-Authorization', 'Proxy-Require', 'RAck', 'Reason',
  'Record-Route', 'Refer-Sub', 'Refer-To', 'Referred-By', 'Reject-Contact',
  'Remote-Party-ID', 'Replaces', 'Reply-To', 'Request-Disposition', 'Require',
  'Resource-Priority', 'Retry-After', 'Route', 'RSeq', 'Security-Client', 'Security-Server',
  'Security-Verify', 'Server', 'Service-Route', 'Session-Expires', 'SIP-ETag', 'SIP-If-Match',
  'Subject', 'Subscription-State', 'Supported', 'Target-Dialog', 'Timestamp', 'To',
  'Unsupported', 'User-Agent', 'Via', 'Warning', 'WWW-Authenticate',
];

/** RFC 3261 §7.3.3 and later RFCs' compact forms. */
const COMPACT: ReadonlyArray<readonly [string, string]> = [
  ['a', 'accept-contact'], ['b', 'referred-by'], ['c', 'content-type'], ['d', 'request-disposition'],
  ['e', 'content-encoding'], ['f', 'from'], ['i', 'call-id'], ['j', 'reject-contact'],
  ['k', 'supported'], ['l', 'content-length'], ['m', 'contact'], ['n', 'identity-info'],
  ['o', 'event'], ['r', 'refer-to'], ['s', 'subject'], ['t', 'to'], ['u', 'allow-events'],
  ['v', 'via'], ['x', 'session-expires'], ['y', 'identity'],
];

/**
 * Headers whose value is a comma-separated list (RFC 3261 §7.3.1), so several
 * lines may be combined into one and getHeaders() splits them. Headers that
 * carry commas inside a single value (Authorization, Date, ...) are not here.
 */
const LIST_HEADERS: ReadonlySet<string> = new Set([
  'accept', 'accept-contact', 'accept-encoding', 'accept-language', 'accept-resource-priority',
  'alert-info', 'allow', 'allow-events', 'call-info', 'contact', 'content-encoding',
  'content-language', 'diversion', 'error-info', 'history-info', 'in-reply-to',
  'p-asserted-identity', 'p-associated-uri', 'p-early-media', 'p-preferred-identity', 'path',
  'proxy-require', 'reason', 'record-route', 'reject-contact', 'remote-party-id',
  'request-disposition', 'require', 'resource-priority', 'route', 'security-client',
  'security-server', 'security-verify', 'service-route', 'supported', 'unsupported', 'via',
  'warning',
]);

/** Any spelling we have seen or expect -> canonical name. Grows only with known names. */
const BY_SPELLING = new Map<string, string>();
/** Canonical name -> wire spelling. */
const WIRE = new Map<string, string>();

for (const wire of WIRE_NAMES) {
  const lower = wire.toLowerCase();
  WIRE.set(lower, wire);
  BY_SPELLING.set(lower, lower);
  BY_SPELLING.set(wire, lower);
  BY_SPELLING.set(wire.toUpperCase(), lower);
}
for (const [short, long] of COMPACT) {
  BY_SPELLING.set(short, long);
  BY_SPELLING.set(short.toUpperCase(), long);
}
// Spellings common in the field that differ from the conventional one.
for (const alt of ['Call-Id', 'Cseq', 'Content-length', 'Content-type', 'Max-forwards', 'Www-Authenticate', 'User-agent', 'Record-route', 'Call-id']) {
  BY_SPELLING.set(alt, alt.toLowerCase());
}

// For matching names straight out of the header block without building a
// substring: known canonical names grouped by length, the most frequent first.
const BY_LENGTH: string[][] = [];
const COMPACT_BY_CHAR: Array<string | undefined> = new Array(128);
{
  const frequent = ['via', 'from', 'to', 'call-id', 'cseq', 'contact', 'max-forwards', 'content-length', 'content-type'];
  for (const name of [...frequent, ...WIRE.keys()]) {
    const list = (BY_LENGTH[name.length] ??= []);
    if (!list.includes(name)) list.push(name);
  }
  for (const [short, long] of COMPACT) COMPACT_BY_CHAR[short.charCodeAt(0)] = long;
}

/**
 * Canonical name of the known header whose name is s[a, b) in any letter
 * case, or undefined for names we do not know (the caller then lower-cases).
 */
export function matchHeaderName(s: string, a: number, b: number): string | undefined {
  const n = b - a;
  const c0 = s.charCodeAt(a) | 0x20;
  if (n === 1) return c0 < 128 ? COMPACT_BY_CHAR[c0] : undefined;
  const cands = BY_LENGTH[n];
  if (cands === undefined) return undefined;
  outer: for (let k = 0; k < cands.length; k++) {
    const cand = cands[k] as string;
    if (cand.charCodeAt(0) !== c0) continue;
    for (let i = 1; i < n; i++) {
      const x = cand.charCodeAt(i);
      const y = s.charCodeAt(a + i);
      // Known names hold only letters and '-': OR-ing 0x20 folds case for letters
      // only, and '-' must match exactly (0x0d | 0x20 would equal it).
      if (x !== y && (x === 0x2d || (y | 0x20) !== x)) continue outer;
    }
    return cand;
  }
  return undefined;
}

/**
 * Canonical lower-case long form of a header name as written on the wire.
 * The caller has already checked the name is a token.
 */
export function canonicalHeaderName(name: string): string {
  const hit = BY_SPELLING.get(name);
  if (hit !== undefined) return hit;
  const lower = name.toLowerCase();
  return BY_SPELLING.get(lower) ?? lower;
}

/** Unknown names get title case; cached, but bounded so hostile peers cannot grow it forever. */
const titleCache = new Map<string, string>();
const TITLE_CACHE_MAX = 512;

/** Spelling used when writing a canonical header name to the wire. */
export function wireHeaderName(canonical: string): string {
  const known = WIRE.get(canonical);
  if (known !== undefined) return known;
  const cached = titleCache.get(canonical);
  if (cached !== undefined) return cached;
  let out = '';
  let upper = true;
  for (let i = 0; i < canonical.length; i++) {
    const ch = canonical[i] as string;
    out += upper ? ch.toUpperCase() : ch;
    upper = ch === '-';
  }
  if (titleCache.size < TITLE_CACHE_MAX) titleCache.set(canonical, out);
  return out;
}

/** True when the (canonical) header's value is a comma-separated list. */
export function isListHeader(canonical: string): boolean {
  return LIST_HEADERS.has(canonical);
}
