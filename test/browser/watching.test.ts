// The System Status page as an operations screen (issue 12 item 4): left
// open and visible for 30 minutes — three times the idle timeout — it is
// still live (a phone registering then shows up without a reload), and the
// session it keeps open is for watching only: going to another page asks for
// the login. 30 minutes pass on both clocks: the server's (injected) and the
// page's (playwright's clock), a minute at a time.
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_PASSWORD, ApiClient } from '../integration/api/client.ts';
import { TestPhone } from '../integration/lib/phone.ts';
import { startTestServer, type TestServer } from '../integration/lib/server.ts';
import { waitUntil } from '../lib/wait.ts';
import { launch, pageTools, shot, type Browser } from './lib/browser.ts';
import { passwordOf } from '../interop/users.ts';

const DOMAIN = 'test.local';
const IDLE_MIN = 10;

let ts: TestServer;
let browser: Browser;
let page: Page;
let url: string;
const phones: TestPhone[] = [];
const problems: string[] = [];
const { heading, nav, row } = pageTools(() => page);

beforeAll(async () => {
  ts = await startTestServer({ http: true, manualTime: true, config: { sip: { domain: DOMAIN }, http: { sessionIdleMinutes: IDLE_MIN } } });
  url = ts.server.http!.url;
  const api = new ApiClient(url, ts.server.certificates.caCertPem);
  await api.loginChanging('admin', ts.server.takeInitialAdminPassword()!, ADMIN_PASSWORD);
  for (const ext of ['2201', '2202']) expect((await api.post('/api/users', { extension: ext, password: passwordOf(ext, 'wallboard') })).status).toBe(201);
  await ts.server.directory.poll();
  browser = await launch({ caPem: ts.server.certificates.caCertPem, viewport: { width: 1280, height: 800 } });
  page = await browser.context.newPage();
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('console', (m) => {
    // The 401 the last step provokes is logged by chromium as a failed load; nothing else may be.
    if (m.type() === 'error' && !/status of 401 /.test(m.text())) problems.push(`console: ${m.text()}`);
  });
}, 90_000);

afterAll(async () => {
  await browser?.close();
  for (const p of phones) await p.stop();
  await ts?.stop();
});

describe('a System Status page left open', () => {
  it('is still live after 30 minutes, and the session it kept open watches only', async () => {
    await page.clock.install();
    await page.goto(`${url}/`);
    await heading('Log in');
    await page.locator('#login-name').fill('admin');
    await page.locator('#login-password').fill(ADMIN_PASSWORD);
    await page.keyboard.press('Enter');
    await heading('System status');
    await page.getByRole('status').filter({ hasText: 'Live' }).waitFor();

    const watching = ts.server.http!.watching;
    for (let minute = 0; minute < 30; minute++) {
      const heard = watching.heardWatching;
      // The page's minute: its "watching" timer fires (twice), and the server has read what it sent...
      await page.clock.runFor(60_000);
      expect(await waitUntil(() => watching.heardWatching >= heard + 2, 10_000), `minute ${minute}`).toBe(true);
      // ...then the server's minute, its session checks included.
      await ts.advance(60_000);
    }
    expect(await page.getByRole('status').filter({ hasText: 'Live' }).count()).toBe(1);

    const p = await TestPhone.start({ ext: '2201', password: passwordOf('2201', 'wallboard'), server: { host: ts.host, port: ts.sipPort, domain: DOMAIN } });
    phones.push(p);
    expect((await p.register(3600)).status).toBe(200);
    await row('tr[data-extension="2201"]', 'Idle').waitFor({ timeout: 15_000 });
    await shot(page, 'watching-01-status-after-30-minutes');

    // Anything but watching needs the password again.
    await nav('Users', 'Log in');
    await page.getByText('Your session ended after inactivity').waitFor();
    await shot(page, 'watching-02-login-to-edit');
    expect(problems).toEqual([]);
  });
});
