// The media server on System Status, in Debian's chromium against a real
// server: two phones call conference room 8200 over real SIP and RTP; once
// both are in the room's mixer the Conferences section lists the room with
// its two participants (GET /api/status/conferences), and Active calls names
// the application that answered ("conference 8200"), not a phone. When they
// hang up the room is gone. Screenshots land in test/browser/artifacts/.
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../integration/lib/server.ts';
import { TestPhone } from '../integration/lib/phone.ts';
import { RtpPeer } from '../integration/lib/rtp-peer.ts';
import { waitUntil } from '../lib/wait.ts';
import { launch, pageTools, shot, type Browser } from './lib/browser.ts';

const DOMAIN = 'test.local';
const DESKTOP = { width: 1280, height: 800 };
const PHONE = { width: 390, height: 844 };

let ts: TestServer;
let browser: Browser;
let page: Page;
const phones: TestPhone[] = [];
const peers: RtpPeer[] = [];
const problems: string[] = [];
const { firstLogin } = pageTools(() => page);

beforeAll(async () => {
  ts = await startTestServer({ http: true, config: { sip: { domain: DOMAIN } } });
  for (const ext of ['2301', '2302']) await ts.server.store.users.add({ extension: ext, password: `pw-${ext}-Room`, name: `Desk ${ext}` });
  // No join tone: the participants are in the mixer as soon as the short "you are alone"/"joined" prompt ends.
  await ts.server.store.conferenceRooms.add({ number: '8200', name: 'Board', announceJoin: false });
  await ts.server.directory.poll();
  await ts.server.featureTables.poll();
  for (const ext of ['2301', '2302']) {
    const p = await TestPhone.start({ ext, password: `pw-${ext}-Room`, server: { host: ts.host, port: ts.sipPort, domain: DOMAIN } });
    phones.push(p);
    expect((await p.register(3600)).status).toBe(200);
  }
  browser = await launch({ caPem: ts.server.certificates.caCertPem, viewport: DESKTOP });
  page = await browser.context.newPage();
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error' && !/status of 401 /.test(m.text())) problems.push(`console: ${m.text()}`);
  });
  await firstLogin(ts.server.http!.url, ts.server.takeInitialAdminPassword()!, 'Rooms-In-Status-61k');
}, 90_000);

afterAll(async () => {
  await browser?.close();
  for (const p of peers) p.close();
  for (const p of phones) await p.stop();
  await ts?.stop();
});

describe('the media server on System status', () => {
  it('lists a conference in progress with its participants, and its calls as "conference 8200"', async () => {
    const calls = [];
    for (const phone of phones) {
      const media = await RtpPeer.open();
      peers.push(media);
      const call = phone.call('8200', { body: media.sdp() });
      const answer = await call.final;
      expect(answer.status).toBe(200);
      media.connect(answer.body, false);
      calls.push(call);
    }
    const rooms = page.locator('tr[data-room="8200"]');
    await rooms.waitFor({ timeout: 20_000 });
    // The second caller joins after its prompt: wait for both.
    expect(await waitUntil(async () => (await rooms.innerText()).match(/Room 8200\s+2/) !== null, 20_000), await rooms.innerText()).toBe(true);
    const called = page.locator('tr[data-call] td[data-label="Called"]');
    expect(await called.allInnerTexts()).toEqual(['conference 8200', 'conference 8200']);
    expect(await page.locator('tr[data-call] td[data-label="Caller"]').allInnerTexts()).toEqual(['Desk 2301 (2301)', 'Desk 2302 (2302)']);
    const api = await page.evaluate(async () => (await fetch('/api/status/conferences')).json());
    expect(api).toEqual({ items: [{ room: '8200', adhoc: false, participants: 2, worker: null }] });

    await page.locator('#calls-h').scrollIntoViewIfNeeded();
    await shot(page, '77-status-conference-desktop', { fullPage: false });
    await page.setViewportSize(PHONE);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow).toBeLessThanOrEqual(1);
    await page.locator('#conf-h').scrollIntoViewIfNeeded();
    await shot(page, '77-status-conference-phone', { fullPage: false });
    await page.setViewportSize(DESKTOP);

    for (const [i, c] of calls.entries()) expect((await phones[i]!.inDialog(c.dialog!, 'BYE')).status).toBe(200);
    await page.getByText('No conference in progress.').waitFor({ timeout: 20_000 });
    await page.getByText('No active calls.').waitFor({ timeout: 20_000 });
    expect(problems).toEqual([]);
  }, 90_000);
});
