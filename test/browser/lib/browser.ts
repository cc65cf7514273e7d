// Debian's chromium driven by playwright-core, headless, with the flags this
// machine needs (no background networking: outbound connections are refused
// here) and a fresh profile per launch. HTTPS is trusted the way an operator
// would: the server's root CA goes into the NSS database of a throw-away HOME
// (certutil, Debian's libnss3-tools), so chromium checks the identity
// certificate's chain, SAN and dates for real. No certificate error is ignored.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';
export const CERTUTIL = '/usr/bin/certutil';
export const ARTIFACTS = fileURLToPath(new URL('../artifacts/', import.meta.url));

const FLAGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync',
];

export interface Browser {
  context: BrowserContext;
  close(): Promise<void>;
}

/** A HOME whose NSS database trusts the given root CA for TLS servers. */
function homeTrusting(caPem: string): string {
  for (const [tool, pkg] of [[CHROMIUM, 'chromium'], [CERTUTIL, 'libnss3-tools']]) {
    if (!existsSync(tool!)) throw new Error(`${tool} is missing: apt-get install ${pkg} (.ci/run installs it)`);
  }
  const home = mkdtempSync(path.join(tmpdir(), 'switchboard-browser-'));
  const db = path.join(home, '.pki', 'nssdb');
  mkdirSync(db, { recursive: true });
  const caFile = path.join(home, 'switchboard-ca.pem');
  writeFileSync(caFile, caPem);
  execFileSync(CERTUTIL, ['-d', `sql:${db}`, '-N', '--empty-password'], { timeout: 30_000 });
  execFileSync(CERTUTIL, ['-d', `sql:${db}`, '-A', '-t', 'C,,', '-n', 'Switchboard test CA', '-i', caFile], { timeout: 30_000 });
  return home;
}

export async function launch(o: { caPem: string; viewport?: { width: number; height: number } }): Promise<Browser> {
  const home = homeTrusting(o.caPem);
  const context = await chromium.launchPersistentContext(path.join(home, 'profile'), {
    executablePath: CHROMIUM,
    headless: true,
    args: FLAGS,
    env: { ...process.env, HOME: home },
    viewport: o.viewport ?? { width: 1280, height: 860 },
    locale: 'en-GB',
    timezoneId: 'UTC',
  });
  return {
    context,
    close: async () => {
      await context.close();
      rmSync(home, { recursive: true, force: true });
    },
  };
}

/** Saves a screenshot (the full page unless told) as test/browser/artifacts/<name>.png and returns its path. */
export async function shot(page: Page, name: string, o: { fullPage?: boolean } = {}): Promise<string> {
  mkdirSync(ARTIFACTS, { recursive: true });
  const file = path.join(ARTIFACTS, `${name}.png`);
  await page.screenshot({ path: file, fullPage: o.fullPage ?? true });
  return file;
}

/** Controls without a label: every input, select and textarea must have one (or an aria-label). */
export function unlabelledControls(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const out: string[] = [];
    for (const el of Array.from(document.querySelectorAll('input, select, textarea'))) {
      const c = el as HTMLInputElement;
      if (c.type === 'hidden') continue;
      if ((c.labels?.length ?? 0) > 0 || c.getAttribute('aria-label') || c.getAttribute('aria-labelledby')) continue;
      out.push(c.outerHTML.slice(0, 120));
    }
    return out;
  });
}

/** Waits and moves of every page test; `page` is read at each call, so it may be set in beforeAll. */
export function pageTools(page: () => Page) {
  const heading = (name: string) => page().getByRole('heading', { level: 1, name }).waitFor({ timeout: 15_000 });
  return {
    /** Waits for the page title (h1). */
    heading,
    /** Follows a link of the main navigation and waits for the page's title. */
    nav: async (label: string, title: string) => {
      await page().getByRole('navigation', { name: 'Main' }).getByRole('link', { name: label }).click();
      await heading(title);
    },
    /** A page inside a section of the main navigation (System, the media server): its entry, then the section's tab. */
    tab: async (entry: string, section: string, label: string, title: string) => {
      await page().getByRole('navigation', { name: 'Main' }).getByRole('link', { name: entry, exact: true }).click();
      await page().getByRole('navigation', { name: section }).getByRole('link', { name: label, exact: true }).click();
      await heading(title);
    },
    row: (selector: string, text: string) => page().locator(selector, { hasText: text }),
    /** The first login of `admin` at url with its one-time password, then the forced change to newPassword; ends on System status. */
    firstLogin: async (url: string, oneTime: string, newPassword: string) => {
      await page().goto(`${url}/`);
      await heading('Log in');
      await page().getByLabel('Name').fill('admin');
      await page().getByLabel('Password').fill(oneTime);
      await page().getByRole('button', { name: 'Log in' }).click();
      await heading('Choose a new password');
      await page().locator('#pw-new').fill(newPassword);
      await page().locator('#pw-again').fill(newPassword);
      await page().getByRole('button', { name: 'Change password' }).click();
      await heading('System status');
    },
  };
}
