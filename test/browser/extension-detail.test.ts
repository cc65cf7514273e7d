// The extension detail page and the status list of every extension (issue
// 12 item 1) in Debian's chromium against a real server, with phones nobody
// here wrote: SIPp registering with a wrong password shows the reason on the
// detail page within seconds; a baresip phone registered over UDP and then
// killed turns unreachable within a minute (keepalive every 5 s here), and
// both show in System Status, filtered by state. Screenshots at desktop and
// phone size land in test/browser/artifacts/.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../integration/lib/server.ts';
import { runSipp } from '../interop/sipp.ts';
import { sippUsersCsv } from '../interop/users.ts';
import { BaresipPhone } from '../interop/lib/baresip-phone.ts';
import { freePort } from '../interop/process.ts';
import { TestClient } from '../integration/lib/sip-client.ts';
import { launch, pageTools, shot, unlabelledControls, type Browser } from './lib/browser.ts';

const DOMAIN = 'test.local';
let ts: TestServer;
let browser: Browser;
let page: Page;
let baresip: BaresipPhone | undefined;
const problems: string[] = [];
const { firstLogin, heading } = pageTools(() => page);

beforeAll(async () => {
  ts = await startTestServer({ http: true, config: { sip: { domain: DOMAIN }, registrar: { keepaliveSec: 5, keepaliveTimeoutSec: 3 } } });
  await ts.server.store.users.add({ extension: '2401', password: 'pw-2401-right', name: 'Ward 7 Nurse' });
  await ts.server.store.users.add({ extension: '2402', password: 'pw-2402-right', name: 'Ward 7 Desk' });
  await ts.server.store.users.add({ extension: '2403', password: 'pw-2403-right', name: 'Pharmacy' });
  await ts.server.directory.poll();
  browser = await launch({ caPem: ts.server.certificates.caCertPem });
  page = await browser.context.newPage();
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error' && !/status of 401 /.test(m.text())) problems.push(`console: ${m.text()}`);
  });
  await firstLogin(ts.server.http!.url, ts.server.takeInitialAdminPassword()!, 'Detail-Browser-Pass-9');
}, 60_000);

afterAll(async () => {
  await baresip?.stop();
  await browser?.close();
  await ts?.stop();
});

describe('extension detail', () => {
  it('shows "wrong password" on the detail page within seconds of a SIPp REGISTER with a wrong password', async () => {
    await page.goto(`${ts.server.http!.url}/#/users/2401/detail`);
    await heading('Extension 2401 — Ward 7 Nurse');
    await page.locator('[data-verdict="warn"]', { hasText: 'no attempt seen' }).waitFor();

    const work = mkdtempSync(path.join(tmpdir(), 'switchboard-detail-sipp-'));
    const r = await runSipp({
      scenario: 'register_auth.xml', remotePort: ts.sipPort, transport: 'u1', authUri: DOMAIN, calls: 1, rate: 1,
      usersCsv: sippUsersCsv([{ ext: '2401', password: 'not-the-password' }], DOMAIN), keys: { expires: '600' },
      recvTimeoutMs: 3_000, workDir: work, timeoutMs: 30_000,
    });
    // The second REGISTER is challenged again, which the scenario does not expect: SIPp counts a failed "call".
    expect(r.stats?.successful ?? 0).toBe(0);
    const sentAt = Date.now();
    const failure = page.locator('.last-failure[data-reason="wrong-password"]');
    await failure.waitFor({ timeout: 5_000 });
    expect(Date.now() - sentAt).toBeLessThan(5_000);
    const text = await failure.innerText();
    expect(text).toContain('wrong password (digest response did not match)');
    expect(text).toMatch(/REGISTER from UDP 127\.0\.0\.1:\d+/);
    expect(text).toContain('SIPp interop');
    expect(await page.locator('[data-verdict]').innerText()).toBe('Not registered: wrong password (digest response did not match).');
    expect(await unlabelledControls(page)).toEqual([]);
    await shot(page, 'detail-01-wrong-password', { fullPage: true });
    await page.setViewportSize({ width: 390, height: 844 });
    await shot(page, 'detail-02-wrong-password-phone', { fullPage: true });
    await page.setViewportSize({ width: 1280, height: 860 });
  });

  it('turns a killed baresip UDP phone unreachable within a minute, its registration kept', async () => {
    const rtp = await freePort();
    baresip = await BaresipPhone.start('desk', {
      account: { user: '2402', password: 'pw-2402-right', domain: DOMAIN, proxyHost: ts.host, proxyPort: ts.sipPort, transport: 'udp', regint: 600 },
      rtpPorts: { min: rtp, max: rtp + 9 },
    });
    await page.goto(`${ts.server.http!.url}/#/users/2402/detail`);
    await heading('Extension 2402 — Ward 7 Desk');
    // Probed within one keepalive interval: baresip answers OPTIONS.
    const reach = page.locator('[data-reach]');
    await page.locator('[data-reach="reachable"]').waitFor({ timeout: 15_000 });
    expect(await page.locator('tr[data-contact]').innerText()).toMatch(/baresip/i);
    expect(await page.locator('[data-verdict]').innerText()).toBe('Registered (one phone).');
    await shot(page, 'detail-03-reachable', { fullPage: true });

    await baresip.kill();
    baresip = undefined;
    const killedAt = Date.now();
    await page.locator('[data-reach="unreachable"]').waitFor({ timeout: 60_000 });
    expect(Date.now() - killedAt).toBeLessThan(60_000);
    expect(await reach.count()).toBe(1);
    expect(await page.locator('[data-verdict]').innerText()).toBe('Registered, but its phone does not answer (unreachable).');
    expect(ts.server.prober?.stats().unreachable).toBe(1);
    await shot(page, 'detail-04-unreachable', { fullPage: true });
    await page.setViewportSize({ width: 390, height: 844 });
    await shot(page, 'detail-05-unreachable-phone', { fullPage: true });
    await page.setViewportSize({ width: 1280, height: 860 });
  }, 90_000);

  it('lists every extension in System Status with its state, filters by state and opens the detail', async () => {
    await page.goto(`${ts.server.http!.url}/#/status`);
    await heading('System status');
    const row = (ext: string) => page.locator(`section[aria-labelledby="ext-h"] tr[data-extension="${ext}"]`);
    await row('2401').waitFor();
    expect(await row('2401').getAttribute('data-state')).toBe('failed');
    expect(await row('2401').innerText()).toContain('wrong password');
    expect(await row('2402').getAttribute('data-state')).toBe('unreachable');
    expect(await row('2403').innerText()).toContain('Not registered');
    // A phone set up with a number nobody has: under the list, with its name and address.
    const stray = await new TestClient('udp', ts.host, ts.sipPort, {}, 0, '127.0.0.24').open();
    try {
      expect((await stray.register('2999', 'whatever')).status).toBe(401);
    } finally {
      stray.close();
    }
    const summary = page.locator('details.strangers summary');
    await summary.waitFor({ timeout: 10_000 });
    await summary.click();
    expect(await page.locator('tr[data-stranger="unknown-user"]').innerText()).toMatch(/2999\s+unknown user name\s+UDP 127\.0\.0\.24:\d+/);
    await shot(page, 'detail-06-status-list', { fullPage: true });

    await page.getByLabel('State', { exact: true }).selectOption('failed');
    await page.locator('section[aria-labelledby="ext-h"] tr[data-extension]').first().waitFor();
    await row('2402').waitFor({ state: 'detached' });
    expect(await page.locator('section[aria-labelledby="ext-h"] tr[data-extension]').count()).toBe(1);
    await page.setViewportSize({ width: 390, height: 844 });
    await shot(page, 'detail-07-status-failed-phone', { fullPage: true });
    await page.setViewportSize({ width: 1280, height: 860 });
    await page.getByLabel('State', { exact: true }).selectOption('');
    await row('2402').waitFor();

    // Sorted by name through its column header, then the detail through the extension's link.
    await page.getByRole('button', { name: 'Name' }).click();
    await page.waitForFunction(() => document.querySelector('section[aria-labelledby="ext-h"] tr[data-extension]')?.getAttribute('data-extension') === '2403');
    await row('2401').getByRole('link', { name: '2401' }).click();
    await heading('Extension 2401 — Ward 7 Nurse');
    expect(problems).toEqual([]);
  });
});
