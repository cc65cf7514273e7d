// Debian's Kamailio as the one address phones use in front of several
// Switchboard nodes (README "Several nodes"): the dispatcher module picks a
// node per request by a hash of the From URI, probes the nodes with OPTIONS,
// and on a timeout or 503 marks the node inactive and tries the next.
// REGISTERs get a Path carrying the phone's received address, so the node
// that routes a call to the phone reaches it back through Kamailio; other
// initial requests are record-routed.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeTempDir, removeDir, requireTool } from '../process.ts';
import { KAMAILIO_MODULES } from '../../../bench/kamailio/config.ts';
import { checkConfig, runKamailio } from '../../../bench/kamailio/server.ts';

export interface DispatcherHandle {
  readonly host: string;
  readonly port: number;
  output(): string;
  stop(): Promise<void>;
}

export interface DispatcherOptions {
  host: string;
  port: number;
  /** The nodes' UDP addresses, "HOST:PORT". */
  nodes: readonly string[];
  /** Seconds between the dispatcher's OPTIONS probes of each node. */
  pingSec?: number;
  /** Milliseconds a node has to answer before the next one is tried. */
  failoverMs?: number;
}

function config(o: DispatcherOptions, dir: string): string {
  const me = `${o.host}:${o.port}`;
  return `#!KAMAILIO
debug=2
log_stderror=yes
children=2
auto_aliases=no
listen=udp:${me}
alias="${me}"
mpath="${KAMAILIO_MODULES}/"

loadmodule "tm.so"
loadmodule "sl.so"
loadmodule "rr.so"
loadmodule "pv.so"
loadmodule "maxfwd.so"
loadmodule "textops.so"
loadmodule "siputils.so"
loadmodule "path.so"
loadmodule "xlog.so"
loadmodule "dispatcher.so"

modparam("dispatcher", "list_file", "${join(dir, 'dispatcher.list')}")
modparam("dispatcher", "flags", 2)
modparam("dispatcher", "ds_ping_interval", ${o.pingSec ?? 1})
modparam("dispatcher", "ds_probing_mode", 1)
modparam("dispatcher", "ds_probing_threshold", 1)
modparam("dispatcher", "ds_inactive_threshold", 1)
modparam("dispatcher", "ds_ping_from", "sip:dispatcher@${me}")

request_route {
  if (!mf_process_maxfwd_header("10")) { sl_send_reply("483", "Too Many Hops"); exit; }
  # Our own liveness check (the test waits for it).
  if (is_method("OPTIONS") && uri == myself && $rU == $null) { sl_send_reply("200", "OK"); exit; }
  if (is_method("CANCEL")) { if (t_check_trans()) t_relay(); exit; }
  if (has_totag()) {
    if (loose_route()) { t_relay(); exit; }
    if (is_method("ACK") && t_check_trans()) t_relay();
    exit;
  }
  # A node's request to a phone, through the Path it registered with: a
  # preloaded Route to us only (loose_route() says false for that), whose
  # received parameter is where the phone is.
  if (is_present_hf("Route") && uri != myself) {
    $var(rcv) = $(hdr(Route){nameaddr.uri}{uri.param,received});
    remove_hf("Route");
    if ($var(rcv) != "") $du = $var(rcv);
    if (is_method("INVITE")) record_route();
    t_relay();
    exit;
  }
  if (is_method("REGISTER")) add_path_received();
  else record_route();
  # A phone stays on one node (hash of its From URI) while that node answers.
  if (!ds_select_dst("1", "1")) { sl_send_reply("503", "No Node Available"); exit; }
  t_set_fr(${o.failoverMs ?? 1500}, ${o.failoverMs ?? 1500});
  t_on_failure("NEXT_NODE");
  t_relay();
  exit;
}

failure_route[NEXT_NODE] {
  if (t_is_canceled()) exit;
  if (t_check_status("503") || (t_branch_timeout() && !t_branch_replied())) {
    xlog("L_WARN", "node $du failed for $rm; trying the next\\n");
    ds_mark_dst("ip");
    if (ds_next_dst()) {
      t_on_failure("NEXT_NODE");
      t_relay();
    }
  }
}
`;
}

export async function startDispatcher(o: DispatcherOptions): Promise<DispatcherHandle> {
  requireTool('kamailio');
  const dir = makeTempDir('kamailio-ds');
  const configFile = join(dir, 'kamailio.cfg');
  writeFileSync(join(dir, 'dispatcher.list'), o.nodes.map((n) => `1 sip:${n}`).join('\n') + '\n');
  writeFileSync(configFile, config(o, dir));
  try {
    checkConfig(configFile);
  } catch (err) {
    removeDir(dir);
    throw err;
  }
  const run = await runKamailio({ configFile, dir, host: o.host, port: o.port, shmMb: 64 });
  return { host: o.host, port: o.port, output: run.output, stop: run.stop };
}
