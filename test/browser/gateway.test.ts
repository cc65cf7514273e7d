// The Gateway pages in Debian's chromium against a real gateway Switchboard
// whose upstream is a second real Switchboard (UDP on loopback): the List
// Users counters match the API, a line with a wrong password shows its
// failure reason in words, a bulk disable changes the rows and the store and
// a re-register registers again, the line form shows the model's message
// beside a bad IPEI, the settings form saves and refuses a bad value beside
// its field, the proxies page shows the proxy's live state, an exported users
// file comes back in through the import page, and System status carries the
// gateway card. Screenshots at desktop and phone size in test/browser/artifacts/.
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GatewaySettings, GatewayStatus, LineView, ProxyView } from '../../src/model/gateway.ts';
import { startTestServer, type TestServer } from '../integration/lib/server.ts';
import { waitUntil } from '../lib/wait.ts';
import { launch, pageTools, shot, unlabelledControls, type Browser } from './lib/browser.ts';

const PASSWORD = 'Gateway-Pages-9';
const DESKTOP = { width: 1280, height: 860 };
const PHONE = { width: 390, height: 844 };
const UPSTREAM_DOMAIN = 'upstream.test';
const JIM_PASSWORD = 'Upstream-41510-secret';

let upstream: TestServer;
let ts: TestServer;
let browser: Browser;
let page: Page;
let base: string;
let csrf = '';
const problems: string[] = [];
const tools = pageTools(() => page);
const tab = (label: string, title: string) => tools.tab('Handset gateway', 'Gateway pages', label, title);

async function shots(name: string): Promise<void> {
  await page.setViewportSize(DESKTOP);
  await shot(page, `gateway-${name}-desktop`);
  await page.setViewportSize(PHONE);
  await shot(page, `gateway-${name}-phone`);
  await page.setViewportSize(DESKTOP);
}

/** The REST API from inside the page, with the browser's own session (cookie and CSRF token) and its trust in the server's CA. */
async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  const r = await page.evaluate(async (a) => {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (a.body !== undefined) headers['content-type'] = 'application/json';
    if (a.method !== 'GET') headers['x-csrf-token'] = a.csrf;
    const res = await fetch(a.path, { method: a.method, headers, body: a.body === undefined ? undefined : JSON.stringify(a.body), credentials: 'same-origin' });
    return { status: res.status, text: await res.text() };
  }, { method, path, body, csrf });
  if (r.status >= 400) throw new Error(`${method} ${path}: ${r.status} ${r.text}`);
  return (r.text && r.text.trimStart().match(/^[[{]/) ? JSON.parse(r.text) : r.text || undefined) as T;
}
const status = () => api<GatewayStatus>('GET', '/api/gateway/status');
const line = async (ext: string) => (await api<{ items: LineView[] }>('GET', '/api/gateway/lines')).items.find((l) => l.extension === ext);

beforeAll(async () => {
  upstream = await startTestServer({ config: { sip: { domain: UPSTREAM_DOMAIN } } });
  await upstream.server.store.users.add({ extension: '41510', password: JIM_PASSWORD, name: 'Jim Kander' });
  await upstream.server.store.users.add({ extension: '41511', password: 'Upstream-41511-secret', name: 'Ward 4' });
  await upstream.server.directory.poll();

  ts = await startTestServer({ http: true });
  for (const [extension, name] of [['4101', 'Jim'], ['4102', 'Ward 4'], ['4103', 'Porter']] as const) {
    await ts.server.store.users.add({ extension, password: `Local-${extension}-secret`, name });
  }
  await ts.server.directory.poll();
  base = ts.server.http!.url;
  browser = await launch({ caPem: ts.server.certificates.caCertPem, viewport: DESKTOP });
  page = await browser.context.newPage();
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) problems.push(`console: ${m.text()}`);
  });
  await tools.firstLogin(base, ts.server.takeInitialAdminPassword()!, PASSWORD);
  csrf = (await api<{ csrfToken: string }>('GET', '/api/session')).csrfToken;

  // The gateway: its upstream is the second server, over UDP on loopback.
  await api('PATCH', '/api/gateway/settings', {
    mode: 'gateway', defaultDomain: UPSTREAM_DOMAIN, transport: 'udp', dnsMethod: 'a', registerExpiresSec: 300,
  });
  await api('POST', '/api/gateway/proxies', { uri: `sip:127.0.0.1:${upstream.sipPort};transport=udp`, priority: 1, weight: 100 });
  await api('PUT', '/api/gateway/lines/4101', { upstreamUser: '41510', password: JIM_PASSWORD, ipei: '05003 0733588' });
  await api('PUT', '/api/gateway/lines/4102', { upstreamUser: '41511', password: 'not-the-password' });
  await api('PUT', '/api/gateway/lines/4103', { upstreamUser: '41512', password: 'Any-41512-secret', disabled: true });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await ts?.stop();
  await upstream?.stop();
});

describe('Gateway pages', () => {
  it('lists the lines with the counters the API reports, a registered line and a failed one with its reason', async () => {
    await tab('Users', 'Gateway users');
    const row = (ext: string) => page.locator(`tr[data-line="${ext}"]`);
    // The page polls the status: the registered line appears without a reload.
    await row('4101').locator('[data-registration="registered"]').waitFor({ timeout: 30_000 });
    await row('4102').locator('[data-registration="failed"]').waitFor({ timeout: 30_000 });

    const s = await status();
    const failure = s.lines.find((l) => l.extension === '4102')!.failure!;
    expect(failure.code).toBe('wrong-password');
    // The reason in words, as the API and CLI say it.
    expect(await row('4102').locator('[data-failure="wrong-password"]').innerText()).toBe(failure.text);
    expect(await row('4102').getAttribute('class')).toContain('error-row');

    const jim = await row('4101').innerText();
    expect(jim).toContain('41510@');
    expect(jim).toContain('05003 0733588');
    // No display name on the line: the user's name is the one in use, and the page says whose it is.
    const name = row('4101').locator('td[data-label="Display name"]');
    expect(await name.getAttribute('data-inherited')).toBe('true');
    expect(await name.innerText()).toMatch(/^Jim\s+the user's name$/);
    expect(await row('4103').locator('[data-enabled]').innerText()).toBe('No');

    // The counters match the API's (read again until the page's poll has caught up).
    const shown = async () => {
      const out: Record<string, number> = {};
      for (const k of ['sipUsers', 'subscribed', 'registered', 'total']) {
        out[k] = Number(await page.locator(`[data-counter="${k}"] strong`).innerText());
      }
      return out;
    };
    let api2 = (await status()).counters;
    expect(await waitUntil(async () => {
      api2 = (await status()).counters;
      return JSON.stringify(await shown()) === JSON.stringify(api2);
    }, 15_000, 250)).toBe(true);
    expect(api2.registered).toBeGreaterThanOrEqual(1);
    expect(api2.total).toBe(3);
    // The upstream holds the gateway's registration of 41510.
    expect(upstream.server.location.lookup(`sip:41510@${UPSTREAM_DOMAIN}`)).toHaveLength(1);
    expect(await unlabelledControls(page)).toEqual([]);
    await shots('users');
  });

  it('bulk disable changes the rows and the lines', async () => {
    await page.getByLabel('Select 4101').check();
    await page.getByLabel('Select 4102').check();
    await page.getByRole('group', { name: 'Bulk actions' }).getByRole('button', { name: 'Disable' }).click();
    await page.getByText('2 lines disabled.').waitFor();
    for (const ext of ['4101', '4102']) {
      await page.locator(`tr[data-line="${ext}"] [data-enabled="false"]`).waitFor();
      expect((await line(ext))?.disabled).toBe(true);
      await page.locator(`tr[data-line="${ext}"] [data-registration="disabled"]`).waitFor({ timeout: 30_000 });
    }
    expect(await page.locator('tr[data-line="4101"]').getAttribute('class')).toContain('disabled-row');
    await shots('users-disabled');

    await page.getByLabel('Select 4101').check();
    await page.getByRole('group', { name: 'Bulk actions' }).getByRole('button', { name: 'Enable' }).click();
    await page.getByText('1 line enabled.').waitFor();
    expect((await line('4101'))?.disabled).toBe(false);
    await page.locator('tr[data-line="4101"] [data-registration="registered"]').waitFor({ timeout: 30_000 });

    // Re-register: the line registers again upstream now (its expiry moves on).
    const before = (await status()).lines.find((l) => l.extension === '4101')!.expiresAt!;
    await page.getByLabel('Select 4101').check();
    await page.getByRole('group', { name: 'Bulk actions' }).getByRole('button', { name: 'Re-register' }).click();
    await page.getByText('1 line registering again.').waitFor();
    expect(await waitUntil(async () => ((await status()).lines.find((l) => l.extension === '4101')?.expiresAt ?? 0) > before, 15_000, 250)).toBe(true);
    await page.locator('tr[data-line="4101"] [data-registration="registered"]').waitFor({ timeout: 30_000 });
  });

  it("shows the line model's message beside a bad IPEI, and saves a good one", async () => {
    await page.getByRole('link', { name: 'Line of 4103' }).click();
    await page.getByRole('heading', { name: 'Line of 4103' }).waitFor();
    await page.getByLabel('IPEI').fill('12345');
    await page.getByRole('button', { name: 'Save line' }).click();
    await page.locator('#gl-ipei-error').waitFor();
    expect(await page.locator('#gl-ipei-error').innerText()).toContain('must be an IPEI');
    expect((await line('4103'))?.ipei).toBeNull();
    expect(await unlabelledControls(page)).toEqual([]);
    await shots('line-form-error');

    await page.getByLabel('IPEI').fill('050030733590');
    await page.getByLabel('Standby text').fill('Porter desk');
    await page.getByRole('button', { name: 'Save line' }).click();
    await page.getByText('Line of 4103 saved.').waitFor();
    const saved = await line('4103');
    expect(saved?.ipei).toBe('05003 0733590');
    expect(saved?.standbyText).toBe('Porter desk');
    // The password was left blank: the stored one stays.
    expect(saved?.hasPassword).toBe(true);
  });

  it('saves the settings, and refuses a bad value beside its field', async () => {
    await tab('Settings', 'Gateway settings');
    expect(await page.locator('#gs-mode').inputValue()).toBe('gateway');
    await page.getByLabel('Registration expiry (s)').fill('10');
    await page.getByRole('button', { name: 'Save gateway settings' }).click();
    await page.locator('#gs-registerExpiresSec-error').waitFor();
    expect(await page.locator('#gs-registerExpiresSec-error').innerText()).toContain('30');
    expect((await api<GatewaySettings>('GET', '/api/gateway/settings')).registerExpiresSec).toBe(300);
    await page.locator('#gs-registerExpiresSec').scrollIntoViewIfNeeded();
    await shot(page, 'gateway-settings-error-desktop', { fullPage: false });

    // A list's item is named beside the list's field.
    await page.getByLabel('Registration expiry (s)').fill('300');
    await page.getByLabel('Codec priority').fill('PCMU, OPUS');
    await page.getByRole('button', { name: 'Save gateway settings' }).click();
    await page.locator('#gs-codecs-error').waitFor();
    expect((await api<GatewaySettings>('GET', '/api/gateway/settings')).codecs).toEqual(['PCMU', 'PCMA', 'G729']);
    await page.getByLabel('Codec priority').fill('PCMA, PCMU');

    await page.getByLabel('Registration expiry (s)').fill('600');
    await page.getByLabel('SIP INFO').check();
    await page.getByRole('button', { name: 'Save gateway settings' }).click();
    await page.getByText('Gateway settings saved; they apply now.').waitFor();
    const s = await api<GatewaySettings>('GET', '/api/gateway/settings');
    expect(s.registerExpiresSec).toBe(600);
    expect(s.dtmfInfo).toBe(true);
    expect(s.codecs).toEqual(['PCMA', 'PCMU']);
    // Only what changed was sent: the rest stays as it was.
    expect(s.mode).toBe('gateway');
    expect(s.transport).toBe('udp');
    expect(await unlabelledControls(page)).toEqual([]);
    await shots('settings');
  });

  it('lists the proxies with their live state; adds and removes one', async () => {
    await tab('Proxies', 'Upstream proxies');
    const uri = `sip:127.0.0.1:${upstream.sipPort};transport=udp`;
    const row = page.locator(`tr[data-proxy="${uri}"]`);
    await row.locator('[data-blacklisted="false"]').first().waitFor({ timeout: 15_000 });

    await page.getByLabel('URI').fill('http://nope');
    await page.getByRole('button', { name: 'Add proxy' }).click();
    await page.locator('#gp-uri-error').waitFor();
    expect((await api<{ items: ProxyView[] }>('GET', '/api/gateway/proxies')).items).toHaveLength(1);

    await page.getByLabel('URI').fill('sip:127.0.0.2:5999;transport=udp');
    await page.getByLabel('Priority').fill('2');
    await page.getByRole('button', { name: 'Add proxy' }).click();
    await page.locator('tr[data-proxy="sip:127.0.0.2:5999;transport=udp"]').waitFor();
    expect((await api<{ items: ProxyView[] }>('GET', '/api/gateway/proxies')).items.map((p) => p.priority)).toEqual([1, 2]);
    expect(await unlabelledControls(page)).toEqual([]);
    await shots('proxies');

    page.once('dialog', (d) => void d.accept());
    await page.getByRole('button', { name: 'Remove sip:127.0.0.2:5999;transport=udp' }).click();
    await page.getByText('Proxy sip:127.0.0.2:5999;transport=udp removed.').waitFor();
    expect((await api<{ items: ProxyView[] }>('GET', '/api/gateway/proxies')).items.map((p) => p.uri)).toEqual([uri]);
  });

  it('imports a gateway users file: a dry run changes nothing, the import does; a stripped password keeps the stored one', async () => {
    // The file as Provisioning → Gateway users writes it (passwords stripped), with 4101's standby text changed.
    const exported = await api<string>('GET', '/api/provisioning/gateway-users?format=csv');
    const rows = exported.trim().split(/\r?\n/);
    const header = rows[0]!.split(',');
    const at = (name: string) => header.indexOf(name);
    expect(at('authPassword')).toBe(-1);
    const edited = rows.map((r, i) => {
      const cells = r.split(',');
      if (i > 0 && cells[at('extension')] === '4101') {
        cells[at('standbyText')] = 'Ward desk';
        cells[at('dectToDect')] = 'true'; // not held here: the report names it
      }
      return cells.join(',');
    }).join('\r\n');
    expect(edited).toContain('Ward desk');

    await tab('Import', 'Import gateway users');
    await page.locator('#gi-file').setInputFiles({ name: 'gateway-users.csv', mimeType: 'text/csv', buffer: Buffer.from(edited) });
    await page.getByRole('button', { name: 'Check file' }).click();
    await page.getByRole('heading', { name: 'Dry run: what the import would do' }).waitFor();
    expect(await page.locator('tr[data-import-row]').filter({ hasText: '4101' }).innerText()).toContain('updated');
    expect(await page.locator('[data-import-warning]').innerText()).toMatch(/^dectToDect is set for 1 record\(s\) \(4101\) and was not imported/);
    expect((await line('4101'))?.standbyText).toBe('');
    await shots('import-dry-run');

    await page.getByLabel('Dry run: report only, change nothing').uncheck();
    await page.getByRole('button', { name: 'Import', exact: true }).click();
    await page.getByRole('heading', { name: 'Import done' }).waitFor();
    const jim = await line('4101');
    expect(jim?.standbyText).toBe('Ward desk');
    expect(jim?.hasPassword).toBe(true);
    expect(await unlabelledControls(page)).toEqual([]);
  });

  it('shows the gateway at a glance on System status', async () => {
    await tools.nav('Status', 'System status');
    const card = page.locator('[data-gateway]');
    await card.waitFor({ timeout: 20_000 });
    const s = await status();
    const failed = s.lines.filter((l) => l.registration === 'failed').length;
    expect(await card.locator('[data-counter="failed"] strong').innerText()).toBe(String(failed));
    expect(await card.innerText()).toContain(`${s.counters.total} total`);
    await shots('status');
  });

  it('raised no page errors', () => {
    expect(problems).toEqual([]);
  });
});
