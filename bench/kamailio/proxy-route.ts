// The call-routing half of the Kamailio reference: a transaction-stateful
// proxy in front of the registrar of config.ts. It does what the calls
// interop tests and bench/calls.ts expect of Switchboard, the way a proxy can:
// INVITEs from users are challenged with 407 (same credentials as REGISTER),
// the dialled user's contacts are tried (404 unknown user, 480 no contact),
// fr_inv_timer ends an unanswered call (408, CANCEL downstream), 9<number>
// leaves through a trunk with the prefix stripped, and a call from the trunk's
// address:port to a DID reaches the mapped extension without a challenge.
// TCP/TLS peers are reached back over the connection they opened (contact
// aliases): baresip cannot accept TLS connections without a certificate.

export interface KamailioTrunk {
  host: string;
  port: number;
  /** Dialled prefix that selects the trunk, e.g. '9'. */
  prefix: string;
  /** Leading digits removed before the call leaves. */
  strip: number;
}

export interface KamailioProxyOptions {
  /** How long an INVITE may go unanswered before 408 (fr_inv_timer), seconds; default 120. */
  noAnswerSec?: number;
  trunk?: KamailioTrunk;
  /** Inbound number (from the trunk) -> extension. */
  dids?: Readonly<Record<string, string>>;
}

/** Values put into the script unquoted must be plain digits/addresses. */
function plain(what: string, v: string, re: RegExp): string {
  if (!re.test(v)) throw new Error(`kamailio proxy config: ${what} ${JSON.stringify(v)} is not usable`);
  return v;
}

export function proxyModules(o: KamailioProxyOptions): string {
  const noAnswerMs = Math.round((o.noAnswerSec ?? 120) * 1000);
  return `loadmodule "tmx.so"
loadmodule "textops.so"
loadmodule "siputils.so"
loadmodule "rr.so"
loadmodule "nathelper.so"
modparam("tm", "fr_inv_timer", ${noAnswerMs})
# Let a full ring time pass before the overall INVITE limit steps in.
modparam("tm", "max_inv_lifetime", ${Math.max(noAnswerMs + 60_000, 180_000)})
modparam("rr", "append_fromtag", 0)
modparam("nathelper", "received_avp", "$avp(RECEIVED)")
modparam("nathelper", "natping_interval", 0)
modparam("registrar", "received_avp", "$avp(RECEIVED)")`;
}

function trunkRoutes(o: KamailioProxyOptions): { fromTrunk: string; toTrunk: string; routes: string } {
  const t = o.trunk;
  if (t === undefined) return { fromTrunk: '', toTrunk: '', routes: '' };
  const host = plain('trunk host', t.host, /^[\d.]+$/);
  const prefix = plain('trunk prefix', t.prefix, /^\d+$/);
  const dids = Object.entries(o.dids ?? {})
    .map(([num, ext]) => `\tif ($rU == "${plain('DID', num, /^\d+$/)}") {\n\t\t$rU = "${plain('extension', ext, /^\w+$/)}";\n\t\troute(LOCATION);\n\t}`)
    .join('\n');
  return {
    // A trunk peer is recognised by its source address; it is never challenged.
    fromTrunk: `\tif ($si == "${host}" && $sp == ${t.port}) {\n\t\troute(FROMTRUNK);\n\t\texit;\n\t}`,
    toTrunk: `\tif ($rU =~ "^${prefix}[0-9]+$") {\n\t\troute(TOTRUNK);\n\t\texit;\n\t}`,
    routes: `
route[FROMTRUNK] {
${dids}
\tsl_send_reply("404", "Not Found");
\texit;
}

route[TOTRUNK] {
\tstrip(${t.strip});
\t$du = "sip:${host}:${t.port};transport=udp";
\trecord_route();
\troute(RELAY);
}
`,
  };
}

/**
 * request_route and friends for the proxy. `authCheck` is the credential
 * check of config.ts (htable or db_text), written for REGISTER (To user);
 * `proxyCheck` the same for INVITE (From user).
 */
export function proxyRoutes(o: KamailioProxyOptions, authCheck: string, proxyCheck: string, userExists: string): string {
  const trunk = trunkRoutes(o);
  return `
request_route {
\tif (!mf_process_maxfwd_header("10")) {
\t\tsl_send_reply("483", "Too Many Hops");
\t\texit;
\t}
\tif (is_method("OPTIONS") && $rU == $null) {
\t\tsl_send_reply("200", "OK");
\t\texit;
\t}
\tif (has_totag()) {
\t\troute(WITHINDLG);
\t\texit;
\t}
\tif (is_method("CANCEL")) {
\t\tif (t_check_trans()) route(RELAY);
\t\texit;
\t}
\t# Retransmissions of a request being processed are absorbed here.
\tif (!is_method("ACK")) {
\t\tif (t_precheck_trans()) {
\t\t\tt_check_trans();
\t\t\texit;
\t\t}
\t\tt_check_trans();
\t}
\tif (is_method("REGISTER")) {
\t\troute(REGISTRAR);
\t\texit;
\t}
\tif (is_method("ACK")) exit;
\tif (!is_method("INVITE")) {
\t\tsl_send_reply("405", "Method Not Allowed");
\t\texit;
\t}
${trunk.fromTrunk}
\tif (!${proxyCheck}) {
\t\tproxy_challenge("$fd", "1");
\t\texit;
\t}
\tconsume_credentials();
${trunk.toTrunk}
\troute(LOCATION);
}

route[REGISTRAR] {
\tif (!${authCheck}) {
\t\tauth_challenge("$td", "1");
\t\texit;
\t}
\tconsume_credentials();
\t# Reach stream clients over the connection they registered on.
\tif (proto == TCP || proto == TLS) fix_nated_register();
\tif (!save("location")) sl_reply_error();
\texit;
}

route[WITHINDLG] {
\tif (loose_route()) {
\t\thandle_ruri_alias();
\t\troute(RELAY);
\t}
\tif (is_method("ACK")) {
\t\tif (t_check_trans()) route(RELAY);
\t\texit;
\t}
\tsl_send_reply("404", "Not Here");
\texit;
}

route[LOCATION] {
\tif (!lookup("location")) {
\t\tif (${userExists}) sl_send_reply("480", "Temporarily Unavailable");
\t\telse sl_send_reply("404", "Not Found");
\t\texit;
\t}
\trecord_route();
\troute(RELAY);
}
${trunk.routes}
route[RELAY] {
\tif (is_method("INVITE")) {
\t\tif (proto == TCP || proto == TLS) add_contact_alias();
\t\tt_on_reply("REPLY");
\t}
\tif (!t_relay()) sl_reply_error();
\texit;
}

onreply_route[REPLY] {
\tif ((proto == TCP || proto == TLS) && is_present_hf("Contact")) add_contact_alias();
}
`;
}
