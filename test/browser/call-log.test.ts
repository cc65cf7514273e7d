// The Call log page in Debian's chromium against a real server with phones:
// a call refused with 403 (outbound calls not allowed, SIPp as the phone), a call the far end
// refused (486 over a trunk) and an answered call are made for real; the
// page finds the refused one by its SIP status, shows the status in words,
// its detail, the CSV of the same selection, and fits a phone's screen.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, startTestServer, type TestServer } from '../integration/lib/server.ts';
import { TestPhone, type PhoneOptions } from '../integration/lib/phone.ts';
import { launch, pageTools, shot, unlabelledControls, type Browser } from './lib/browser.ts';
import { waitUntil } from '../lib/wait.ts';
import { describeSipp, runSipp } from '../interop/sipp.ts';
import { sippUsersCsv } from '../interop/users.ts';

let ts: TestServer;
let browser: Browser;
let page: Page;
const phones: TestPhone[] = [];
const problems: string[] = [];
const { firstLogin, heading, nav } = pageTools(() => page);

async function phone(ext: string, o: Partial<PhoneOptions> = {}, register = true): Promise<TestPhone> {
  const p = await TestPhone.start({ ext, password: `pw-${ext}-long`, server: { host: ts.host, port: ts.sipPort, domain: 'test.local' }, ...o });
  phones.push(p);
  if (register) expect((await p.register()).status).toBe(200);
  return p;
}

beforeAll(async () => {
  ts = await startTestServer({ http: true, config: { sip: { domain: 'test.local' } } });
  const users = ts.server.store.users;
  await users.add({ extension: '7000', password: 'pw-7000-long', name: 'Reception Desk', outboundCalls: false });
  await users.add({ extension: '7001', password: 'pw-7001-long', name: 'Ward Office', outboundCalls: true });
  await ts.server.directory.poll();
  const carrier = await phone('carrier', { behaviour: 'busy', port: await freePort() }, false);
  await ts.server.store.trunks.add({ name: 'pstn', host: '127.0.0.1', port: carrier.local.port, transport: 'udp', prefix: '9', strip: 1, addPrefix: '' });
  await ts.server.trunks.poll();

  // The calls, for real: refused by policy (SIPp as the phone), refused by the far end, answered.
  const work = mkdtempSync(path.join(tmpdir(), 'switchboard-browser-calllog-'));
  const refused = await runSipp({
    scenario: 'code_uac_reject.xml', remotePort: ts.sipPort, transport: 'u1', authUri: '9555123@test.local', calls: 1, rate: 1,
    usersCsv: sippUsersCsv([{ ext: '7000', password: 'pw-7000-long' }], 'test.local'), extraArgs: ['-s', '9555123'],
    recvTimeoutMs: 10_000, workDir: work, timeoutMs: 60_000, traceMessages: true,
  });
  rmSync(work, { recursive: true, force: true });
  expect(refused.stats?.successful, describeSipp(refused)).toBe(1);
  expect(refused.messages).toMatch(/SIP\/2\.0 403 Outbound Calls Not Permitted/);
  await phone('7000', { behaviour: 'answer' });
  const office = await phone('7001');
  expect((await office.call('90301234').final).status).toBe(486);
  const answered = office.call('7000');
  expect((await answered.final).status).toBe(200);
  await office.inDialog(answered.dialog!, 'BYE');
  expect(await waitUntil(() => ts.server.calls.activeCount === 0, 5000)).toBe(true);

  browser = await launch({ caPem: ts.server.certificates.caCertPem });
  page = await browser.context.newPage();
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
}, 120_000);

afterAll(async () => {
  await browser?.close();
  for (const p of phones) await p.stop();
  await ts?.stop();
});

describe('the Call log page', () => {
  it('finds the refused call by its SIP status and shows why, in words', async () => {
    await firstLogin(ts.server.http!.url, ts.server.takeInitialAdminPassword()!, 'Call-Log-Browser-Pass-9');

    await nav('Call log', 'Call log');
    const rows = page.locator('table.call-table tbody tr');
    await page.getByRole('status').filter({ hasText: '1–3 of 3' }).waitFor();
    expect(await rows.count()).toBe(3);
    await shot(page, 'call-log-desktop');

    await page.getByLabel('SIP status').fill('403');
    await page.getByRole('status').filter({ hasText: '1–1 of 1' }).waitFor();
    const refused = rows.first();
    const text = await refused.innerText();
    expect(text).toContain('Refused');
    expect(text).toContain('403 Forbidden — Outbound Calls Not Permitted');
    expect(text).toContain('7000');
    expect(text).toContain('9555123');
    expect(await unlabelledControls(page)).toEqual([]);

    // The CSV link carries the same filter; the file has the one call.
    const link = page.getByRole('link', { name: 'Download CSV' });
    const csvHref = await link.getAttribute('href');
    expect(csvHref).toBe('/api/calls.csv?status=403');
    const [download] = await Promise.all([page.waitForEvent('download'), link.click()]);
    expect(download.suggestedFilename()).toBe('calls.csv');
    const lines = readFileSync((await download.path())!, 'utf8').replace(/^\ufeff/, '').trim().split('\r\n');
    expect(lines).toHaveLength(2);
    expect(lines[1]).toContain('403 Forbidden — Outbound Calls Not Permitted');

    // An outcome filter together with the status one: nothing is both.
    await page.getByLabel('Outcome').selectOption('busy');
    await page.getByRole('status').filter({ hasText: 'No calls' }).waitFor();
    await page.getByLabel('SIP status').fill('');
    await page.getByRole('status').filter({ hasText: '1–1 of 1' }).waitFor();
    expect(await rows.first().innerText()).toContain('486 Busy Here');
    await page.getByRole('button', { name: 'Clear' }).click();
    await page.getByRole('status').filter({ hasText: '1–3 of 3' }).waitFor();

    // A status that is no SIP status: the filter says so beside the field.
    await page.getByLabel('SIP status').fill('99');
    await page.locator('#call-status-error').waitFor();
    expect(await page.locator('#call-status-error').innerText()).toContain('SIP status code');
    await page.getByLabel('SIP status').fill('403');
    await page.getByRole('status').filter({ hasText: '1–1 of 1' }).waitFor();
    expect(problems).toEqual([]);
  });

  it('shows one call in detail: outcome, legs and their statuses, media per side', async () => {
    await page.getByRole('link', { name: /^Details of the call from 7000 to 9555123/ }).click();
    await heading('Call from 7000 to 9555123');
    const facts = await page.locator('dl.call-facts').innerText();
    expect(facts).toContain('403 Forbidden — Outbound Calls Not Permitted');
    expect(facts).toContain('pstn');
    expect(await page.locator('main').innerText()).toContain('refused before any phone or trunk was tried');
    await shot(page, 'call-log-detail-refused');

    await page.getByRole('link', { name: 'Call log' }).last().click();
    await heading('Call log');
    await page.getByRole('status').filter({ hasText: '1–3 of 3' }).waitFor();
    await page.getByRole('link', { name: /^Details of the call from 7001 to 7000/ }).click();
    await heading('Call from 7001 to 7000');
    const main = page.locator('main');
    const legs = await main.locator('table').first().innerText();
    expect(legs).toContain('200 OK');
    const media = await main.locator('table').nth(1).innerText();
    expect(media).toMatch(/Caller \(7001\)\s+127\.0\.0\.1:\d+/);
    expect(media).toMatch(/Callee \(7000\)\s+127\.0\.0\.1:\d+/);
    await shot(page, 'call-log-detail-answered');
    expect(problems).toEqual([]);
  });

  it('fits a phone screen', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    await shot(page, 'call-log-phone-detail');
    await page.goto(`${ts.server.http!.url}/#/calls`);
    await heading('Call log');
    await page.getByRole('status').filter({ hasText: '1–3 of 3' }).waitFor();
    await shot(page, 'call-log-phone');
    // Folded on a phone: the calls come first, the filters a tap away.
    expect(await page.getByLabel('SIP status').isVisible()).toBe(false);
    await page.locator('summary', { hasText: 'Filters' }).click();
    await page.getByLabel('SIP status').fill('403');
    await page.getByRole('status').filter({ hasText: '1–1 of 1' }).waitFor();
    await shot(page, 'call-log-phone-filtered');
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    await page.setViewportSize({ width: 1280, height: 860 });
    expect(problems).toEqual([]);
  });
});
