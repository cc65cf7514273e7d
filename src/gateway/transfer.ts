// Transfer by a handset whose other party is the upstream (SPEC B-12): the
// REFER goes upstream, where the upstream's call server carries it out — the
// transfer target is a number of the upstream's plan, not ours. With Send
// Hold before REFER the upstream leg is first re-INVITEd to hold; with Send
// BYE with REFER our call ends as soon as the upstream accepts the REFER,
// else the handset's leg ends and the upstream leg stays until the upstream
// ends it. Attended transfers (Refer-To with Replaces), and transfers between
// local parties, are carried out here as for any call (features/transfer.ts).
import type { SipResponse } from '../sip/message.ts';
import { formatUri } from '../sip/uri.ts';
import { formatNameAddr } from '../sip/name-addr.ts';
import { ReferNotifier } from '../sip/ua/refer.ts';
import type { CallHooks } from '../pbx/call/call.ts';
import type { CallContext } from '../pbx/call/context.ts';
import type { Leg } from '../pbx/call/leg.ts';
import { holdOffer } from '../pbx/media/placeholder.ts';
import type { GatewayLines } from './types.ts';
import { UPSTREAM } from './calls.ts';

/** The engine's REFER hook with upstream transfers in front of `local` (the engine's own). */
export function upstreamRefer(lines: () => GatewayLines | undefined, ctx: () => CallContext, local: CallHooks['refer']): CallHooks['refer'] {
  return (call, bridge, leg, req, tx) => {
    const gw = lines();
    const ext = leg.peer.user?.extension;
    const upstream = bridge.b ? bridge.other(leg) : undefined;
    const route = gw && ext !== undefined && gw.isGatewayUser(ext) ? gw.route(ext) : undefined;
    if (!gw || !route || call.callee.trunk !== UPSTREAM || bridge !== call.bridge || !upstream || upstream.peer.user !== undefined || !upstream.established || !leg.dialog) {
      return local(call, bridge, leg, req, tx);
    }
    const c = ctx();
    const notifier = ReferNotifier.accept(req, tx, {
      dialog: leg.dialog, transactions: c.transactions, timers: c.timers, dest: leg.dest, via: () => leg.via(), contact: leg.contact(),
    });
    if (!notifier) return;
    if (notifier.referTo.replaces !== undefined || !notifier.referTo.target.user) {
      // Attended: the Replaces names the handset's dialog with us, which the upstream does not know; done here.
      notifier.progress(501, 'Attended Transfer Through The Upstream Not Supported');
      return;
    }
    const target = route.requestUri(notifier.referTo.target.user);
    const s = gw.settings;
    c.log.info({ call: call.ref, by: ext, to: target.user, hold: s.holdBeforeRefer }, 'gateway: transfer sent upstream');
    void referUpstream(upstream, formatUri(target), formatNameAddr(route.aor), s.holdBeforeRefer).then((res) => {
      notifier.progress(res.status >= 300 ? res.status : 200, res.status >= 300 ? res.reason : 'OK');
      if (res.status >= 300) return;
      if (s.byeWithRefer) return call.hangup('transferred upstream');
      call.release(leg);
      leg.bye();
      leg.close();
    });
  };
}

/** Hold (when asked), then REFER in the upstream leg's dialog; resolves with the REFER's final response. */
async function referUpstream(upstream: Leg, referTo: string, referredBy: string, hold: boolean): Promise<Pick<SipResponse, 'status' | 'reason'>> {
  if (hold) {
    const r = await upstream.reinvite(holdOffer(upstream.lastSdpSent));
    if (r.res.status >= 300) return { status: r.res.status, reason: `Hold Before Transfer Failed: ${r.res.reason}`.slice(0, 120) };
    r.ack();
  }
  return new Promise((resolve) => {
    const sent = upstream.sendInDialog('REFER', { headers: [{ name: 'refer-to', value: `<${referTo}>` }, { name: 'referred-by', value: referredBy }] }, {
      onResponse: (res: SipResponse) => {
        if (res.status >= 200) resolve(res);
      },
      onTimeout: () => resolve({ status: 408, reason: 'Request Timeout' }),
      onTransportError: () => resolve({ status: 503, reason: 'Service Unavailable' }),
    });
    if (!sent) resolve({ status: 481, reason: 'Call/Transaction Does Not Exist' });
  });
}

