// Sections of several pages: one entry in the main navigation, and these tabs
// above each of its pages, so the main bar stays one line on a desktop screen.
import type { ComponentChildren } from 'preact';
import { href } from '../router.ts';

export interface SectionPage {
  path: string;
  label: string;
}

export const SYSTEM_PAGES: readonly SectionPage[] = [
  { path: 'system', label: 'System' },
  { path: 'admins', label: 'Administrators' },
  { path: 'audit', label: 'Audit log' },
  { path: 'certificates', label: 'Certificates' },
  { path: 'backup', label: 'Backup' },
];

/** The media server's pages. */
export const MEDIA_PAGES: readonly SectionPage[] = [
  { path: 'voicemail', label: 'Voicemail' },
  { path: 'ivr-menus', label: 'IVR menus' },
  { path: 'conference-rooms', label: 'Conference rooms' },
  { path: 'audio', label: 'Audio & music on hold' },
];

/** Phone provisioning: the devices, the provisioning server's requests and the tools beside them. */
export const PROVISIONING_PAGES: readonly SectionPage[] = [
  { path: 'devices', label: 'Devices' },
  { path: 'provisioning-requests', label: 'Requests' },
  { path: 'dial-plan', label: 'Dial plan' },
  { path: 'gateway-users', label: 'Gateway users' },
];

/** The handset gateway (issue 15): its lines per user, its settings, its upstream proxies and the lines' import. */
export const GATEWAY_PAGES: readonly SectionPage[] = [
  { path: 'gateway', label: 'Users' },
  { path: 'gateway-settings', label: 'Settings' },
  { path: 'gateway-proxies', label: 'Proxies' },
  { path: 'gateway-import', label: 'Import' },
];

/** The main navigation entry a page belongs under: the section's first page, or the page itself. */
export function sectionEntry(page: string): string {
  for (const pages of [SYSTEM_PAGES, MEDIA_PAGES, PROVISIONING_PAGES, GATEWAY_PAGES]) if (pages.some((p) => p.path === page)) return pages[0]!.path;
  return page;
}

export function SectionTabs(p: { pages: readonly SectionPage[]; label: string; section: string; children: ComponentChildren }) {
  return (
    <>
      <nav class="subnav" aria-label={p.label}>
        <ul>
          {p.pages.map((s) => (
            <li key={s.path}>
              <a href={href(s.path)} aria-current={p.section === s.path ? 'page' : undefined}>{s.label}</a>
            </li>
          ))}
        </ul>
      </nav>
      {p.children}
    </>
  );
}
