// Writes a Kamailio registrar equivalent to Switchboard's: digest auth (MD5,
// qop=auth) against plain passwords, HA1 computed per request, location
// table in memory only, OPTIONS answered 200. Everything lives in one temp
// dir so several instances can run side by side and nothing touches /etc.
//
// Two credential back ends, chosen per run:
// - 'db_text': auth_db over the db_text `subscriber` table (calculate_ha1).
//   db_text has no index, so every lookup scans the table: measured here,
//   ~20k registrations/s with 1,000 users but < 600/s with 50,000.
// - 'htable': the same table loaded once into an in-memory hash (htable
//   module) and checked with pv_auth_check: O(1) per lookup, the fair match
//   for Switchboard's in-memory user index at large user counts.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TestUser } from '../../test/interop/users.ts';
import type { KamailioProxyOptions } from './proxy-route.ts';
import { proxyModules, proxyRoutes } from './proxy-route.ts';

export const KAMAILIO_MODULES = '/usr/lib/x86_64-linux-gnu/kamailio/modules';

export interface KamailioConfigOptions {
  dir: string;
  host: string;
  port: number;
  /** Also listen on TCP (same port). */
  tcp?: boolean;
  domain: string;
  users: readonly TestUser[];
  /** Worker processes per UDP socket and for TCP (default 2: two cores). */
  children?: number;
  modulesDir?: string;
  /** Cap for the UDP receive buffer auto-probe, bytes. */
  maxBuffer?: number;
  /** Default 'htable'; see the top of this file. */
  authBackend?: KamailioAuthBackend;
  /** Also listen on TLS (needs kamailio-tls-modules and a PEM key + cert). */
  tls?: { port: number; certFile: string; keyFile: string };
  /** Also route calls as a stateful proxy (proxy-route.ts); default registrar only. */
  proxy?: KamailioProxyOptions;
}

export type KamailioAuthBackend = 'db_text' | 'htable';

export interface KamailioFiles {
  configFile: string;
  dbDir: string;
}

/** db_text values are ':'-separated; ':' and '\' need escaping. */
function dbText(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/:/g, '\\:');
}

/**
 * The db_text tables auth_db reads: `version` (auth_db checks subscriber is
 * schema version 7) and `subscriber` with plain passwords (calculate_ha1).
 */
export function writeDbText(dbDir: string, domain: string, users: readonly TestUser[]): void {
  mkdirSync(dbDir, { recursive: true });
  writeFileSync(
    join(dbDir, 'version'),
    'id(int,auto) table_name(string) table_version(int)\n0:version:1\n0:subscriber:7\n0:htable:2\n',
  );
  const rows = ['id(int,auto) username(string) domain(string) password(string)'];
  // htable rows: key = auth user, key_type 0 (plain), value_type 0 (string).
  const ht = ['id(int,auto) key_name(string) key_type(int) value_type(int) key_value(string) expires(int)'];
  let id = 1;
  for (const u of users) {
    const user = dbText(u.authUser ?? u.ext);
    const pass = dbText(u.password);
    rows.push(`${id}:${user}:${dbText(domain)}:${pass}`);
    ht.push(`${id}:${user}:0:0:${pass}:0`);
    id++;
  }
  writeFileSync(join(dbDir, 'subscriber'), `${rows.join('\n')}\n`);
  writeFileSync(join(dbDir, 'htable'), `${ht.join('\n')}\n`);
}

interface AuthSection {
  modules: string;
  /** REGISTER: auth user = To user. */
  check: string;
  /** Other requests: auth user = From user (the functions pick www/proxy by method). */
  proxyCheck: string;
  /** The Request-URI user is one of ours (404 or 480 when it has no contact). */
  userExists: string;
}

function authSection(o: KamailioConfigOptions, dbDir: string): AuthSection {
  if ((o.authBackend ?? 'htable') === 'db_text') {
    return {
      modules: `loadmodule "auth_db.so"
modparam("auth_db", "db_url", "text://${dbDir}")
modparam("auth_db", "calculate_ha1", yes)
modparam("auth_db", "password_column", "password")
modparam("auth_db", "load_credentials", "")
modparam("auth_db", "use_domain", 1)`,
      // flag 1: the auth user must match the To user.
      check: 'auth_check("$td", "subscriber", "1")',
      proxyCheck: 'auth_check("$fd", "subscriber", "1")',
      userExists: 'is_subscriber("$ru", "subscriber", "0")',
    };
  }
  // size=16: 2^16 buckets, enough for ~100k users at short chains.
  return {
    modules: `loadmodule "htable.so"
modparam("htable", "db_url", "text://${dbDir}")
modparam("htable", "htable", "users=>size=16;dbtable=htable;")`,
    // flags 0: plain password; checks 1: the auth user must match the To user.
    check: 'pv_auth_check("$td", "$sht(users=>$au)", "0", "1")',
    proxyCheck: 'pv_auth_check("$fd", "$sht(users=>$au)", "0", "1")',
    userExists: '$sht(users=>$rU) != $null',
  };
}

/** Registrar only: every request but REGISTER and OPTIONS gets 405. */
function registrarRoute(auth: AuthSection): string {
  return `request_route {
\tif (!mf_process_maxfwd_header("10")) {
\t\tsl_send_reply("483", "Too Many Hops");
\t\texit;
\t}
\tif (method=="OPTIONS") {
\t\tsl_send_reply("200", "OK");
\t\texit;
\t}
\tif (method!="REGISTER") {
\t\tsl_send_reply("405", "Method Not Allowed");
\t\texit;
\t}
\t# Realm = the To domain (our domain).
\tif (!${auth.check}) {
\t\t# flag 1: qop=auth in the challenge, as Switchboard offers.
\t\tauth_challenge("$td", "1");
\t\texit;
\t}
\tconsume_credentials();
\tif (!save("location")) {
\t\tsl_reply_error();
\t}
\texit;
}
`;
}

export function kamailioConfig(o: KamailioConfigOptions, dbDir: string): string {
  const children = o.children ?? 2;
  const auth = authSection(o, dbDir);
  const listen = [`listen=udp:${o.host}:${o.port}`];
  const stream = o.tcp === true || o.tls !== undefined;
  if (o.tcp === true) listen.push(`listen=tcp:${o.host}:${o.port}`);
  if (o.tls !== undefined) listen.push(`listen=tls:${o.host}:${o.tls.port}`);
  const tlsModule =
    o.tls === undefined
      ? ''
      : `loadmodule "tls.so"\nmodparam("tls", "config", "${join(o.dir, 'tls.cfg')}")\n`;
  return `#!KAMAILIO
# Generated by bench/kamailio/config.ts: reference registrar for benchmarks
# and interop checks. Loopback only.

debug=1
log_stderror=yes
log_facility=LOG_LOCAL0
memdbg=5
memlog=5
children=${children}
tcp_children=${children}
${stream ? 'disable_tcp=no' : 'disable_tcp=yes'}
${o.tls !== undefined ? 'enable_tls=yes' : 'enable_tls=no'}
auto_aliases=no
# Let the UDP receive buffer grow to the kernel's rmem_max (the default cap,
# 256 KB, drops bursts at a few thousand requests/s on loopback).
maxbuffer=${o.maxBuffer ?? 4194304}
alias="${o.domain}"
${listen.join('\n')}
# Nothing in this config needs DNS; keep resolver lookups off the box.
dns=no
rev_dns=no
use_dns_cache=off

mpath="${o.modulesDir ?? KAMAILIO_MODULES}"
loadmodule "kex.so"
loadmodule "corex.so"
loadmodule "tm.so"
loadmodule "sl.so"
loadmodule "maxfwd.so"
loadmodule "pv.so"
loadmodule "db_text.so"
loadmodule "usrloc.so"
loadmodule "registrar.so"
loadmodule "auth.so"
${auth.modules}
${tlsModule}${o.proxy === undefined ? '' : `${proxyModules(o.proxy)}\n# Stream clients are reached back over their own connection.\ntcp_connection_lifetime=3605\n`}
# Location in memory only, like Switchboard's in-memory index.
modparam("usrloc", "db_mode", 0)
modparam("usrloc", "hash_size", 14)
modparam("registrar", "max_expires", 7200)
modparam("registrar", "max_contacts", 10)

${o.proxy === undefined ? registrarRoute(auth) : proxyRoutes(o.proxy, auth.check, auth.proxyCheck, auth.userExists)}`;
}

/** TLS profile: our key and cert, no client certificates asked for. */
export function kamailioTlsConfig(certFile: string, keyFile: string): string {
  return `[server:default]
method = TLSv1.2+
verify_certificate = no
require_certificate = no
private_key = ${keyFile}
certificate = ${certFile}

[client:default]
method = TLSv1.2+
verify_certificate = no
require_certificate = no
`;
}

export function writeKamailioConfig(o: KamailioConfigOptions): KamailioFiles {
  const dbDir = join(o.dir, 'db');
  writeDbText(dbDir, o.domain, o.users);
  if (o.tls !== undefined) writeFileSync(join(o.dir, 'tls.cfg'), kamailioTlsConfig(o.tls.certFile, o.tls.keyFile));
  const configFile = join(o.dir, 'kamailio.cfg');
  writeFileSync(configFile, kamailioConfig(o, dbDir));
  return { configFile, dbDir };
}
