// The System pages in Debian's chromium against real servers: every page at
// desktop and phone size (screenshots in test/browser/artifacts/), an
// administrator added, reset and disabled, the audit log filtered with its
// before/after shown, and a backup downloaded from one server, uploaded to a
// fresh one, applied at its next start: users, trunks and settings are back
// and a phone registers.
import { createSocket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, tempDataDir, captureLogger, type TestServer } from '../integration/lib/server.ts';
import { TestPhone } from '../integration/lib/phone.ts';
import { waitUntil } from '../lib/wait.ts';
import { applyStagedRestore } from '../../src/ops/backup.ts';
import { launch, pageTools, shot, unlabelledControls, type Browser } from './lib/browser.ts';

const PASSWORD = 'System-Pages-Pass-7';
const DESKTOP = { width: 1280, height: 800 };
const PHONE = { width: 390, height: 844 };
let a: TestServer;
let b: TestServer | undefined;
let browser: Browser;
let page: Page;
const problems: string[] = [];
const phones: TestPhone[] = [];
const tools = pageTools(() => page);
/**
 * Follows a main navigation link by its exact name ("System" is also the
 * start of "System status"); for the System section's other pages, "System"
 * and then the page's tab.
 */
async function nav(label: string, title: string): Promise<void> {
  if (['Administrators', 'Audit log', 'Certificates', 'Backup'].includes(label)) return tools.tab('System', 'System pages', label, title);
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: label, exact: true }).click();
  await tools.heading(title);
}

async function logIn(p: Page, url: string, password: string, newPassword?: string): Promise<void> {
  await p.goto(`${url}/`);
  await p.getByRole('heading', { level: 1, name: 'Log in' }).waitFor();
  await p.getByLabel('Name').fill('admin');
  await p.getByLabel('Password').fill(password);
  await p.getByRole('button', { name: 'Log in' }).click();
  if (newPassword) {
    await p.getByRole('heading', { level: 1, name: 'Choose a new password' }).waitFor();
    await p.locator('#pw-new').fill(newPassword);
    await p.locator('#pw-again').fill(newPassword);
    await p.getByRole('button', { name: 'Change password' }).click();
  }
  await p.getByRole('heading', { level: 1, name: 'System status' }).waitFor();
}

/** Desktop and phone screenshots of the page as it is now. */
async function shots(name: string): Promise<void> {
  await page.setViewportSize(DESKTOP);
  await shot(page, `system-${name}-desktop`);
  await page.setViewportSize(PHONE);
  await shot(page, `system-${name}-phone`);
  await page.setViewportSize(DESKTOP);
}

beforeAll(async () => {
  a = await startTestServer({ http: true });
  await a.server.store.users.add({ extension: '2401', password: 'Pages-2401-secret', name: 'Ward 9' });
  await a.server.store.trunks.add({ name: 'carrier', host: 'sip.example.org', port: 5060, transport: 'udp' } as never);
  await a.server.store.admin.settings.set({ 'media.dtmf': 'info' });
  await a.server.directory.poll();
  browser = await launch({ caPem: a.server.certificates.caCertPem, viewport: DESKTOP });
  page = await browser.context.newPage();
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('console', (m) => {
    // Refused requests (401 after logging out) are the tests' business; script errors are not.
    if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) problems.push(`console: ${m.text()}`);
  });
  await logIn(page, a.server.http!.url, a.server.takeInitialAdminPassword()!, PASSWORD);
}, 120_000);

afterAll(async () => {
  for (const p of phones) await p.stop();
  await browser?.close();
  await b?.stop();
  await a?.stop();
});

describe('System pages', () => {
  it('shows the system: listeners, workers, storage, capacity and recent warnings', async () => {
    // Junk on the SIP port: the transport warns, and the log view shows it.
    const sock = createSocket('udp4');
    await new Promise<void>((r) => sock.send(Buffer.from('NOT SIP AT ALL\r\n\r\n'), a.sipPort, '127.0.0.1', () => r()));
    sock.close();
    expect(await waitUntil(() => a.log.entries.some((e) => e.level === 'warn'), 5000)).toBe(true);
    await nav('System', 'System');
    await page.locator('tr[data-level="warn"]').first().waitFor();
    await page.locator('section[aria-labelledby="listen-h"] td', { hasText: `127.0.0.1:${a.sipPort}` }).first().waitFor();
    await page.locator('tr[data-worker="1"]').waitFor();
    const storage = await page.locator('section[aria-labelledby="storage-h"]').innerText();
    expect(storage).toContain(join(a.dataDir, 'switchboard.db'));
    expect(storage).toMatch(/Free disk\s+[\d.]+ [KMGT]iB of/);
    expect(await page.locator('section[aria-labelledby="cap-h"]').innerText()).toContain('Calls per user at once');
    expect(await unlabelledControls(page)).toEqual([]);
    await shots('system');
  });

  it('adds an administrator, shows its one-time password, resets and disables it', async () => {
    await nav('Administrators', 'Administrators');
    await page.locator('tr[data-admin="admin"]').waitFor();
    await page.getByLabel('Name').fill('night-ops');
    await page.getByLabel('Operator').check();
    await page.getByRole('button', { name: 'Add administrator' }).click();
    const note = page.locator('[data-note]');
    await note.filter({ hasText: 'Added night-ops. One-time password' }).waitFor();
    const row = page.locator('tr[data-admin="night-ops"]');
    expect(await row.innerText()).toContain('Operator');
    await row.getByRole('button', { name: 'Reset the password of night-ops' }).click();
    await note.filter({ hasText: 'Password of night-ops reset' }).waitFor();
    await row.getByRole('button', { name: 'Disable night-ops' }).click();
    await row.filter({ hasText: 'Disabled' }).waitFor();
    expect((await a.server.store.admin.accounts.get('night-ops'))?.enabled).toBe(false);
    // Refused with the reason, beside the field.
    await page.getByLabel('Name').fill('has space');
    await page.getByRole('button', { name: 'Add administrator' }).click();
    await page.locator('#admin-name-error').waitFor();
    expect(await unlabelledControls(page)).toEqual([]);
    await shots('admins');
  });

  it('filters the audit log and shows what changed, before and after', async () => {
    await nav('Audit log', 'Audit log');
    await page.getByLabel('What (contains)').fill('admin:night-ops');
    await page.getByLabel('Action (contains)').fill('PATCH');
    await page.getByRole('button', { name: 'Filter' }).click();
    await page.getByRole('status').filter({ hasText: '2 entries' }).waitFor();
    const rows = page.locator('tr[data-audit]');
    expect(await rows.count()).toBe(2);
    // Newest first: the disable.
    await rows.first().getByRole('button', { name: 'Show changes' }).click();
    const diff = page.locator('table.diff');
    await diff.waitFor();
    const text = await diff.innerText();
    expect(text).toMatch(/enabled\s+true\s+false/);
    expect(text).not.toContain('passwordHash');
    expect(await unlabelledControls(page)).toEqual([]);
    await shots('audit');
  });

  it('shows the CA and the identity with downloads, never a key', async () => {
    await nav('Certificates', 'Certificates');
    const identity = page.locator('[data-cert="identity"]');
    await identity.waitFor();
    expect(await identity.innerText()).toContain(a.server.certificates.fingerprintSha256);
    expect(await identity.innerText()).toContain('IP:127.0.0.1');
    const [dl] = await Promise.all([page.waitForEvent('download'), identity.getByRole('link', { name: 'Download certificate (PEM)' }).click()]);
    const pem = readFileSync((await dl.path())!, 'utf8');
    expect(pem).toMatch(/^-----BEGIN CERTIFICATE-----/);
    expect(pem).not.toContain('PRIVATE KEY');
    await shots('certificates');
  });

  it('backs up one server and restores it on a fresh data directory: users, trunks, settings back, a phone registers', async () => {
    await nav('Backup', 'Backup and restore');
    await shots('backup');
    const [dl] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: 'Download backup' }).click()]);
    const file = join(tempDataDir(), dl.suggestedFilename());
    await dl.saveAs(file);
    expect(file).toMatch(/switchboard-backup-.*\.swb$/);

    // A fresh server, its own CA: a browser that trusts it.
    const dataDir = tempDataDir();
    b = await startTestServer({ http: true, dataDir });
    const fresh = await launch({ caPem: b.server.certificates.caCertPem, viewport: DESKTOP });
    try {
      const p = await fresh.context.newPage();
      p.on('pageerror', (e) => problems.push(`page error (fresh): ${e.message}`));
      await logIn(p, b.server.http!.url, b.server.takeInitialAdminPassword()!, 'Fresh-Server-Pass-8');
      await p.goto(`${b.server.http!.url}/#/backup`);
      await p.getByRole('heading', { level: 1, name: 'Backup and restore' }).waitFor();
      // A file that is not a backup is refused with the reason.
      await p.getByLabel('Backup file').setInputFiles({ name: 'junk.swb', mimeType: 'application/octet-stream', buffer: Buffer.from('not a backup') });
      await p.getByRole('button', { name: 'Upload and stage' }).click();
      await p.getByRole('alert').filter({ hasText: 'Not staged: not a Switchboard backup' }).waitFor();
      await p.getByLabel('Backup file').setInputFiles(file);
      await p.getByRole('button', { name: 'Upload and stage' }).click();
      await p.locator('[data-pending]').waitFor();
      expect(await p.locator('[data-pending]').innerText()).toContain('certs/ca.key');
      await p.setViewportSize(DESKTOP);
      await shot(p, 'system-backup-staged-desktop');
      await p.setViewportSize(PHONE);
      await shot(p, 'system-backup-staged-phone');
      // The running server did not change.
      expect(await b.server.store.users.getByExtension('2401')).toBeUndefined();
    } finally {
      await fresh.close();
    }
    await b.stop();
    // The next start (switchboard start applies it first).
    expect(await applyStagedRestore(dataDir, captureLogger())).not.toBeNull();
    b = await startTestServer({ http: true, dataDir });
    expect(b.server.certificates.caCertPem).toBe(a.server.certificates.caCertPem);

    // The restored server has A's CA and accounts: this browser trusts it and A's password logs in.
    // Cookies are per host, not per port: A's session cookie reaches B, but sessions are not restored.
    await logIn(page, b.server.http!.url, PASSWORD);
    await nav('Users', 'Users');
    await page.locator('td', { hasText: 'Ward 9' }).first().waitFor();
    await nav('Trunks & DIDs', 'Trunks & DIDs');
    await page.locator('td', { hasText: 'carrier' }).first().waitFor();
    expect(await waitUntil(() => b!.server.systemMedia.current.dtmf === 'info', 5000)).toBe(true);
    expect(await waitUntil(() => b!.server.directory.byExtension('2401') !== undefined, 5000)).toBe(true);
    const phone = await TestPhone.start({ ext: '2401', password: 'Pages-2401-secret', server: { host: b.host, port: b.sipPort, domain: 'test.local' } });
    phones.push(phone);
    expect((await phone.register()).status).toBe(200);
    expect(problems, problems.join('\n')).toEqual([]);
  }, 120_000);
});
