// Every page of the web UI, at desktop and phone size (issue 12: screenshots
// of every page in the test artifacts). The pages are read from the main
// navigation, so a page added there is covered without touching this file;
// forms and detail pages reached from a list are named below. On each: the
// title appears, the page finished loading, no control lacks a label, no
// error reached the console, and on a phone nothing is wider than the screen.
// Screenshots: test/browser/artifacts/gallery-{desktop,phone}-<page>.png.
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_PASSWORD, ApiClient } from '../integration/api/client.ts';
import { TestPhone } from '../integration/lib/phone.ts';
import { startTestServer, type TestServer } from '../integration/lib/server.ts';
import { launch, shot, unlabelledControls, type Browser } from './lib/browser.ts';
import { passwordOf } from '../interop/users.ts';
import { writeWav } from '../../src/media/wav.ts';

const DOMAIN = 'test.local';
const DESKTOP = { width: 1280, height: 800 };
const PHONE = { width: 390, height: 844 };
/** Pages not in the navigation: hash route -> name of the screenshot. */
const REACHED_FROM_LISTS: readonly (readonly [string, string])[] = [
  ['users/new', 'user-add'],
  ['users/3001', 'user-edit'],
  ['users/3001/detail', 'extension-detail'],
  ['voicemail/3001', 'mailbox'],
  ['ivr-menus', 'ivr-menus'],
  ['conference-rooms', 'conference-rooms'],
  ['audio', 'audio'],
  ['password', 'change-password'],
  ['admins', 'admins'],
  ['audit', 'audit'],
  ['certificates', 'certificates'],
  ['backup', 'backup'],
];

let ts: TestServer;
let browser: Browser;
let page: Page;
let url: string;
const phones: TestPhone[] = [];
const problems: string[] = [];

beforeAll(async () => {
  ts = await startTestServer({ http: true, config: { sip: { domain: DOMAIN } } });
  url = ts.server.http!.url;
  const api = new ApiClient(url, ts.server.certificates.caCertPem);
  await api.loginChanging('admin', ts.server.takeInitialAdminPassword()!, ADMIN_PASSWORD);
  // Something on every page: users (one registered, one with a message), a trunk with a DID, a hunt group.
  for (const [ext, name] of [['3001', 'Ward 4 Nurse'], ['3002', 'Ward 4 Desk'], ['3003', 'Pharmacy']] as const) {
    expect((await api.post('/api/users', { extension: ext, password: passwordOf(ext, 'gallery'), name })).status).toBe(201);
  }
  expect((await api.post('/api/trunks', { name: 'itsp', host: '127.0.0.1', port: 5999 })).status).toBe(201);
  expect((await api.post('/api/hunt-groups', { number: '600', name: 'Ward 4', members: ['3001', '3002'] })).status).toBe(201);
  await ts.server.directory.poll();
  // A message waiting for 3001: the voicemail pages, the lamp in status and the detail.
  await ts.server.store.voicemail.deposit('3001', { caller: '3002', callerName: 'Ward 4 Desk', receivedAt: Date.now() - 600_000, durationMs: 1000 }, writeWav(new Int16Array(8000)));
  const p = await TestPhone.start({ ext: '3001', password: passwordOf('3001', 'gallery'), server: { host: ts.host, port: ts.sipPort, domain: DOMAIN } });
  phones.push(p);
  expect((await p.register(3600)).status).toBe(200);

  browser = await launch({ caPem: ts.server.certificates.caCertPem, viewport: DESKTOP });
  page = await browser.context.newPage();
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  await page.goto(`${url}/`);
  await page.locator('#login-name').fill('admin');
  await page.locator('#login-password').fill(ADMIN_PASSWORD);
  await page.keyboard.press('Enter');
  await page.getByRole('heading', { level: 1, name: 'System status' }).waitFor({ timeout: 15_000 });
  // From now on (the 401 of the session asked for before the login is the normal way in).
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`console: ${m.text()}`);
  });
}, 90_000);

afterAll(async () => {
  await browser?.close();
  for (const p of phones) await p.stop();
  await ts?.stop();
});

/** Opens a hash route and waits for its title and for its data (no "Loading…" left). */
async function open(route: string): Promise<string> {
  await page.goto(`${url}/#/${route}`);
  const title = page.getByRole('heading', { level: 1 });
  await title.waitFor({ timeout: 15_000 });
  await page.waitForFunction(() => !Array.from(document.querySelectorAll('[role="status"]')).some((e) => e.textContent === 'Loading…'), undefined, { timeout: 15_000 });
  return (await title.textContent()) ?? '';
}

describe('every page', () => {
  it('renders at desktop and phone size, labelled, without console errors, and fits a phone screen', async () => {
    const navRoutes = await page.locator('nav#nav a[href^="#/"]').evaluateAll((as) => as.map((a) => (a as HTMLAnchorElement).getAttribute('href')!.slice(2)));
    expect(navRoutes.length).toBeGreaterThanOrEqual(9);
    const routes: (readonly [string, string])[] = [...navRoutes.filter((r) => r !== 'password').map((r) => [r, r.replace(/\W+/g, '-')] as [string, string]), ...REACHED_FROM_LISTS];
    const seen: string[] = [];
    for (const [route, name] of routes) {
      await page.setViewportSize(DESKTOP);
      const title = await open(route);
      expect(title, route).not.toBe('');
      expect(await unlabelledControls(page), route).toEqual([]);
      await shot(page, `gallery-desktop-${name}`);

      await page.setViewportSize(PHONE);
      await open(route);
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      expect(overflow, `${route} is ${overflow}px wider than a phone screen`).toBeLessThanOrEqual(1);
      await shot(page, `gallery-phone-${name}`);
      seen.push(`${route}: ${title}`);
    }
    console.log(`pages: ${seen.join(' | ')}`);
    expect(problems).toEqual([]);
  }, 300_000);
});
