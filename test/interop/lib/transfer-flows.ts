// The transfer flows of the interop tests, written once for the transfer
// tests and the scripted AC-10 run (ac10-ac12.test.ts): blind transfer by
// baresip's `transfer` command between three handsets (TLS, SRTP), and
// attended transfer by linphonec (`transfer N --to-call M`, REFER with
// Replaces), each asserting what the server sent and that A and C then talk.
import { expect } from 'vitest';
import type { TestUser } from '../users.ts';
import { MIN_PACKETS_EACH_WAY } from './baresip-calls.ts';
import type { FeatureServer } from './feature-server.ts';
import { captureMedia, connect, event, Handsets, rtpRangesN, talkBetween } from './handsets.ts';
import { LinphonePhone } from './linphone-phone.ts';
import { bodyOf, headerValues } from './sip-tap.ts';

/** How long A and C talk while the capture counts (well over MIN_PACKETS_EACH_WAY at 20 ms). */
const TALK_MS = 3000;

export interface Variant {
  title: string;
  /** B placed the call to A (else A called B). */
  transferorCalls: boolean;
  /** B re-INVITEs A to hold before the REFER (SPEC B-12 "Send Hold before REFER"). */
  holdFirst: boolean;
  users: [TestUser, TestUser, TestUser];
}

/** Three baresip handsets over TLS with SRTP: B transfers A to C blind (baresip `transfer`). */
export async function blindTransfer(fs: FeatureServer, workDir: string, v: Variant, domain: string): Promise<void> {
  const [UA, UB, UC] = v.users;
  const [ra, rb, rc] = rtpRangesN(3) as [ReturnType<typeof rtpRangesN>[number], ReturnType<typeof rtpRangesN>[number], ReturnType<typeof rtpRangesN>[number]];
  const phones = new Handsets(fs);
  const why = (): string => phones.why();
  try {
    const a = await phones.start({ name: 'A', user: UA, rtp: ra });
    const b = await phones.start({ name: 'B', user: UB, rtp: rb });
    const c = await phones.start({ name: 'C', user: UC, rtp: rc, autoAnswer: true });
    if (v.transferorCalls) await connect(b, a, UA.ext, domain, why);
    else await connect(a, b, UB.ext, domain, why);

    const since = fs.tap.mark();
    if (v.holdFirst) {
      const hold = await b.command('hold');
      expect(hold.ok, `hold refused: ${hold.data}\n${why()}`).toBe(true);
      // The hold re-INVITE crossed the server to A and was answered.
      const held = await fs.tap.waitFor((m) => m.dir === 'in' && m.method === 'INVITE' && m.status === 200, 10_000, since);
      expect(held, `no answered hold re-INVITE\n${why()}`).not.toBeNull();
    }
    const target = `sip:${UC.ext}@${domain}`;
    const t = await b.command('transfer', target);
    expect(t.ok, `transfer refused by baresip: ${t.data}\n${why()}`).toBe(true);

    // The server takes the REFER (202), reports progress to B, and connects A to C.
    const refer = await fs.tap.waitFor((m) => m.dir === 'in' && m.method === 'REFER' && m.status === 0, 10_000, since);
    expect(refer, `B sent no REFER\n${why()}`).not.toBeNull();
    const referTo = headerValues(refer!.text, 'refer-to', 'r')[0] ?? '';
    console.log(`baresip REFER: ${refer!.startLine} | Refer-To: ${referTo} | Referred-By: ${headerValues(refer!.text, 'referred-by', 'b')[0] ?? '-'}`);
    expect(referTo, why()).toContain(UC.ext);
    const accepted = await fs.tap.waitFor((m) => m.dir === 'out' && m.method === 'REFER' && m.status > 0, 10_000, since);
    expect(accepted?.status, `REFER answered ${accepted?.startLine}\n${why()}`).toBe(202);

    // C answers by itself: no CALL_INCOMING from an auto-answering baresip.
    await event(c, 'CALL_ESTABLISHED', why);
    // B's call ends: the server's BYE, or B hanging up after the final NOTIFY.
    await event(b, 'CALL_CLOSED', why);
    // RFC 3515: progress as message/sipfrag NOTIFYs (Event: refer), the last one with the final "SIP/2.0 200".
    // Checked softly: the rest (who talks to whom) is still worth knowing when it is missing.
    await fs.tap.waitFor((m) => m.dir === 'out' && m.method === 'NOTIFY' && m.status === 0 && /^SIP\/2\.0 200/.test(bodyOf(m.text)), 5_000, since);
    const notifies = fs.tap.find((m) => m.dir === 'out' && m.method === 'NOTIFY' && m.status === 0 && m.callId === refer!.callId, since);
    const frags = notifies.map((n) => `${headerValues(n.text, 'event', 'o')[0] ?? '?'} / ${headerValues(n.text, 'subscription-state')[0] ?? '?'}: ${bodyOf(n.text).split(/\r?\n/)[0] ?? ''}`);
    expect(notifies.length, `no NOTIFY to B\n${why()}`).toBeGreaterThan(0);
    expect(notifies.every((n) => /^refer/i.test(headerValues(n.text, 'event', 'o')[0] ?? '')), frags.join('\n')).toBe(true);
    expect.soft(frags.some((f) => /: SIP\/2\.0 200/.test(f)), `no final "SIP/2.0 200" NOTIFY to B; NOTIFYs sent: ${JSON.stringify(frags)}`).toBe(true);
    console.log(`NOTIFYs to the transferor: ${JSON.stringify(frags)}`);

    // A and C talk, B is out of it.
    const pcap = await captureMedia([ra, rb, rc], workDir, 'after-transfer');
    try {
      await new Promise((r) => setTimeout(r, TALK_MS));
    } finally {
      await pcap.stop();
    }
    const talk = await talkBetween(pcap, fs, ra, rc, rb, true);
    const detail = `${talk.detail}\n${why()}`;
    expect(talk.toA.length, detail).toBeGreaterThanOrEqual(MIN_PACKETS_EACH_WAY);
    expect(talk.toC.length, detail).toBeGreaterThanOrEqual(MIN_PACKETS_EACH_WAY);
    expect(talk.decryptedToA, detail).toBeGreaterThanOrEqual(MIN_PACKETS_EACH_WAY);
    expect(talk.decryptedToC, detail).toBeGreaterThanOrEqual(MIN_PACKETS_EACH_WAY);
    expect(talk.third, detail).toEqual([]);
    console.log(`blind transfer (${v.title}): ${talk.detail}`);

    // A hangs up: C's call ends too, and the server holds no call.
    const h = await a.command('hangup');
    expect(h.ok, why()).toBe(true);
    await event(a, 'CALL_CLOSED', why);
    await event(c, 'CALL_CLOSED', why);
    const gone = await waitCalls(fs, 0);
    expect(gone, `calls still held by the server: ${fs.server.calls.activeCount}\n${why()}`).toBe(true);
  } finally {
    await phones.stopAll();
  }
}

export async function waitCalls(fs: FeatureServer, n: number, timeoutMs = 10_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (fs.server.calls.activeCount !== n) {
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 100));
  }
  return true;
}

/** The Replaces parameter of a Refer-To URI, decoded: call-id, to-tag, from-tag. */
export function replacesOf(referTo: string): { callId: string; toTag: string; fromTag: string } | null {
  const m = /[?&]Replaces=([^&>]+)/i.exec(referTo);
  if (m === null) return null;
  const parts = decodeURIComponent(m[1] ?? '').split(';');
  const param = (k: string) => parts.find((p) => p.toLowerCase().startsWith(`${k}=`))?.slice(k.length + 1) ?? '';
  return { callId: parts[0] ?? '', toTag: param('to-tag'), fromTag: param('from-tag') };
}

/**
 * A (baresip) calls B (linphonec), B holds A, calls C (baresip, answers by
 * itself) and transfers A to C (`transfer 1 --to-call 2`: REFER with
 * Replaces). Asserts A and C talk and B has no call left.
 */
export async function attendedTransferByLinphone(fs: FeatureServer, workDir: string, users: { a: TestUser; b: TestUser; c: TestUser }, domain: string): Promise<void> {
  const [UA, UB, UC] = [users.a, users.b, users.c];
  const [ra, rb, rc] = rtpRangesN(3) as [ReturnType<typeof rtpRangesN>[number], ReturnType<typeof rtpRangesN>[number], ReturnType<typeof rtpRangesN>[number]];
  const phones = new Handsets(fs);
  let b: LinphonePhone | undefined;
  const why = (): string => `${b?.output() ?? ''}\n${phones.why()}`;
  try {
    const a = await phones.start({ name: 'A', user: UA, rtp: ra, transport: 'udp', srtp: false });
    const c = await phones.start({ name: 'C', user: UC, rtp: rc, transport: 'udp', srtp: false, autoAnswer: true });
    b = await LinphonePhone.start('B', { user: UB.ext, password: UB.password, domain, host: fs.host, port: fs.udpPort, transport: 'udp', rtpPorts: rb });

    // A calls B; B answers.
    const mark = b.mark();
    const dial = await a.command('dial', `sip:${UB.ext}@${domain}`);
    expect(dial.ok, why()).toBe(true);
    const incoming = await b.waitOutput(/new incoming call from .*assigned id (\d+)/i, 15_000, mark);
    expect(incoming, `linphonec saw no incoming call\n${why()}`).not.toBeNull();
    const idA = Number(incoming![1]);
    await b.expect(`answer ${idA}`, /Call \d+ .*(connected|Connected)/, 15_000);
    await event(a, 'CALL_ESTABLISHED', why);

    // B holds A and calls C, who answers by itself.
    const since = fs.tap.mark();
    await b.expect(`pause ${idA}`, /paused/i, 15_000);
    const callMark = b.mark();
    const calling = await b.expect(`call sip:${UC.ext}@${domain}`, /assigned id (\d+)/, 15_000);
    const idC = Number(calling[1]);
    await event(c, 'CALL_ESTABLISHED', why);
    expect(await b.waitOutput(new RegExp(`Call ${idC} .*(connected|Connected)`), 15_000, callMark), why()).not.toBeNull();
    // B's own dialog with the server for the B-C call: the one Replaces must name.
    const bToC = fs.tap.requests('in', 'INVITE', since).find((m) => m.startLine.startsWith(`INVITE sip:${UC.ext}@`));
    expect(bToC, why()).toBeDefined();

    // Attended transfer.
    await b.expect(`transfer ${idA} --to-call ${idC}`, /attended transfer/i, 10_000);
    const refer = await fs.tap.waitFor((m) => m.dir === 'in' && m.method === 'REFER' && m.status === 0, 10_000, since);
    expect(refer, `linphonec sent no REFER\n${why()}`).not.toBeNull();
    const referTo = headerValues(refer!.text, 'refer-to', 'r')[0] ?? '';
    console.log(`linphonec REFER: ${refer!.startLine} | Refer-To: ${referTo} | Referred-By: ${headerValues(refer!.text, 'referred-by', 'b')[0] ?? '-'}`);
    expect(referTo, why()).toContain(UC.ext);
    const replaces = replacesOf(referTo);
    expect(replaces?.callId, `Refer-To ${referTo}\n${why()}`).toBe(bToC!.callId);
    const answered = await fs.tap.waitFor((m) => m.dir === 'out' && m.method === 'REFER' && m.status > 0, 10_000, since);
    expect(answered?.status, `REFER answered ${answered?.startLine}\n${why()}`).toBe(202);
    const done = await fs.tap.waitFor((m) => m.dir === 'out' && m.method === 'NOTIFY' && m.status === 0 && /^SIP\/2\.0 200/.test(bodyOf(m.text)), 5_000, since);
    const notifies = fs.tap.find((m) => m.dir === 'out' && m.method === 'NOTIFY' && m.status === 0, since).map((m) => `${headerValues(m.text, 'event', 'o')[0] ?? '?'} / ${headerValues(m.text, 'subscription-state')[0] ?? '?'}: ${bodyOf(m.text).split(/\r?\n/)[0] ?? ''}`);
    expect.soft(done, `no final "SIP/2.0 200" NOTIFY to B; NOTIFYs sent: ${JSON.stringify(notifies)}`).not.toBeNull();
    console.log(`NOTIFYs to the transferor: ${JSON.stringify(notifies)}`);

    // B has no call left.
    const deadline = Date.now() + 15_000;
    let left = await b.calls();
    while (left.length > 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 500));
      left = await b.calls();
    }
    expect(left, why()).toEqual([]);

    // A and C talk.
    const pcap = await captureMedia([ra, rb, rc], workDir, 'attended');
    try {
      await new Promise((r) => setTimeout(r, TALK_MS));
    } finally {
      await pcap.stop();
    }
    const talk = await talkBetween(pcap, fs, ra, rc, rb, false);
    const detail = `${talk.detail}\n${why()}`;
    expect(talk.toA.length, detail).toBeGreaterThanOrEqual(MIN_PACKETS_EACH_WAY);
    expect(talk.toC.length, detail).toBeGreaterThanOrEqual(MIN_PACKETS_EACH_WAY);
    expect(talk.third, detail).toEqual([]);
    console.log(`attended transfer by linphonec: ${talk.detail}`);

    const h = await a.command('hangup');
    expect(h.ok, why()).toBe(true);
    await event(c, 'CALL_CLOSED', why);
  } finally {
    await b?.stop();
    await phones.stopAll();
  }
}
