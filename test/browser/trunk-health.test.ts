// Trunk health in Debian's chromium against a real server on manual time:
// with System Status open, a trunk whose far end (a real test UAS) is
// stopped turns down after its unanswered OPTIONS, an alarm is raised, and
// the page shows both live, the trunks at the top of the page; a trunk that
// refuses our registration shows the status and reason.
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, startTestServer, type TestServer } from '../integration/lib/server.ts';
import { TestPhone } from '../integration/lib/phone.ts';
import { waitUntil } from '../lib/wait.ts';
import { launch, pageTools, shot, type Browser } from './lib/browser.ts';

let ts: TestServer;
let browser: Browser;
let page: Page;
const farEnds: TestPhone[] = [];
let pstn: TestPhone;
const problems: string[] = [];
const { firstLogin, heading } = pageTools(() => page);

async function farEnd(o: { challenge?: { user: string; password: string; realm: string } } = {}): Promise<TestPhone> {
  const p = await TestPhone.start({ ext: 'far', password: 'x', behaviour: 'answer', port: await freePort(), server: { host: ts.host, port: ts.sipPort, domain: 'test.local' }, ...o });
  farEnds.push(p);
  return p;
}

const state = (trunk: string) => ts.server.trunkHealth.status().find((t) => t.trunk === trunk)?.state;

beforeAll(async () => {
  ts = await startTestServer({ http: true, manualTime: true, config: { trunkHealth: { intervalSec: 30, retrySec: 5, downAfter: 3 } } });
  pstn = await farEnd();
  const itsp = await farEnd({ challenge: { user: 'acct77', password: 'right', realm: 'itsp.example' } });
  const other = await farEnd({ challenge: { user: 'acct88', password: 'right', realm: 'other.example' } });
  const trunks = ts.server.store.trunks;
  await trunks.add({ name: 'pstn', host: '127.0.0.1', port: pstn.local.port, prefix: '9', strip: 1 });
  await trunks.add({ name: 'itsp', host: '127.0.0.1', port: itsp.local.port, prefix: '00', registerUser: 'acct77', registerPassword: 'right' });
  await trunks.add({ name: 'backup-itsp', host: '127.0.0.1', port: other.local.port, prefix: '01', registerUser: 'acct88', registerPassword: 'wrong' });
  await ts.server.trunks.poll();
  browser = await launch({ caPem: ts.server.certificates.caCertPem });
  page = await browser.context.newPage();
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
});

afterAll(async () => {
  await browser?.close();
  for (const p of farEnds) await p.stop();
  await ts?.stop();
});

describe('trunk health in System Status', () => {
  it('shows a stopped far end as down at the top of the page, live, with its alarm', async () => {
    expect(await waitUntil(() => state('pstn') === 'up' && state('itsp') === 'registered' && state('backup-itsp') === 'refused', 10_000)).toBe(true);

    await firstLogin(ts.server.http!.url, ts.server.takeInitialAdminPassword()!, 'Trunk-Health-Pass-7');

    const section = page.locator('section[aria-labelledby="trunks-h"]');
    const row = (name: string) => section.locator(`tr[data-trunk="${name}"]`);
    await row('pstn').and(page.locator('[data-state="up"]')).waitFor();
    expect(await row('itsp').getAttribute('data-state')).toBe('registered');
    expect(await row('backup-itsp').innerText()).toMatch(/Registration refused[\s\S]*401/);

    // The page stays open: the far end stops, and the probes on the server's clock find it gone.
    await pstn.stop();
    await ts.advance(30_000);
    for (let i = 0; i < 3; i++) await ts.advance(5_000);
    expect(state('pstn')).toBe('down');
    await row('pstn').and(page.locator('[data-state="down"]')).waitFor({ timeout: 10_000 });
    expect(await row('pstn').innerText()).toMatch(/Down[\s\S]*no answer to OPTIONS/);
    await section.getByRole('alert').filter({ hasText: '2 of 3 trunks not working' }).waitFor();
    const alarms = page.locator('section[aria-labelledby="alarms-h"]');
    await alarms.locator('tr', { hasText: 'trunk pstn down' }).waitFor({ timeout: 10_000 });
    expect(await alarms.locator('tr', { hasText: 'backup-itsp refused its registration: 401' }).count()).toBe(1);

    // At the top: the first section of the page, above the alarms and the extensions.
    const first = await page.locator('main section').first().getAttribute('aria-labelledby');
    expect(first).toBe('trunks-h');
    const y = async (id: string) => (await page.locator(`section[aria-labelledby="${id}"]`).boundingBox())!.y;
    expect(await y('trunks-h')).toBeLessThan(await y('alarms-h'));
    expect(await y('trunks-h')).toBeLessThan(await y('ext-h'));
    // Trouble first.
    const order = await section.locator('tbody tr').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-trunk')));
    expect(order).toEqual(['backup-itsp', 'pstn', 'itsp']);

    await page.setViewportSize({ width: 1280, height: 800 });
    await shot(page, 'trunk-health-desktop');
    await page.setViewportSize({ width: 390, height: 844 });
    await shot(page, 'trunk-health-phone');
    expect(problems).toEqual([]);
  });

  it('sets a fallback trunk in the trunk form, shown in the list', async () => {
    await page.setViewportSize({ width: 1280, height: 800 });
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Trunks & DIDs' }).click();
    await heading('Trunks & DIDs');
    await page.getByRole('link', { name: 'pstn', exact: true }).click();
    await page.getByRole('heading', { name: 'Trunk pstn' }).waitFor();
    const select = page.getByLabel('Fallback trunk');
    expect(await select.locator('option').allInnerTexts()).toEqual(['None', 'backup-itsp', 'itsp']);
    await select.selectOption('itsp');
    await page.getByLabel('Check every (seconds)').fill('60');
    await shot(page, 'trunk-fallback-form-desktop');
    await page.setViewportSize({ width: 390, height: 844 });
    await shot(page, 'trunk-fallback-form-phone');
    await page.getByRole('button', { name: 'Save trunk' }).click();
    await page.getByText('Trunk pstn saved.').waitFor();
    expect(await ts.server.store.trunks.get('pstn')).toMatchObject({ fallbackTrunk: 'itsp', probeIntervalSec: 60 });
    const listed = page.locator('section[aria-labelledby="trunks-h"] tr', { hasText: 'pstn' }).first();
    // The list reloads after the save's notice: wait for the row to show it (at most the locator's timeout).
    await listed.locator('td[data-label="Fallback"]', { hasText: /^itsp$/ }).waitFor();
    expect(await listed.locator('td[data-label="Fallback"]').innerText()).toBe('itsp');
    await shot(page, 'trunk-list-phone');
    await page.setViewportSize({ width: 1280, height: 800 });
    await shot(page, 'trunk-list-desktop');
    expect(problems).toEqual([]);
  });
});
