// The System section: one entry in the main navigation, and these tabs above
// each of its pages, so the main bar stays one line on a desktop screen.
import type { ComponentChildren } from 'preact';
import { href } from '../router.ts';

export const SYSTEM_PAGES: readonly { path: string; label: string }[] = [
  { path: 'system', label: 'System' },
  { path: 'admins', label: 'Administrators' },
  { path: 'audit', label: 'Audit log' },
  { path: 'certificates', label: 'Certificates' },
  { path: 'backup', label: 'Backup' },
];

export const isSystemPage = (section: string): boolean => SYSTEM_PAGES.some((p) => p.path === section);

export function SystemSection(p: { section: string; children: ComponentChildren }) {
  return (
    <>
      <nav class="subnav" aria-label="System pages">
        <ul>
          {SYSTEM_PAGES.map((s) => (
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
