// The management web UI: log in (and the forced password change), then the
// pages behind a navigation bar. Hash routes; one Api object for the page.
import { render } from 'preact';
import type { ComponentChildren } from 'preact';
import { useEffect, useMemo, useState } from 'preact/hooks';
import { Api, type SessionProblem } from './api.ts';
import { CallLogPage } from './pages/call-log.tsx';
import { ChangePasswordPage, LoginPage } from './pages/login.tsx';
import { HuntGroupsPage } from './pages/hunt-groups.tsx';
import { IvrMenusPage } from './pages/ivr-menus.tsx';
import { ConferenceRoomsPage } from './pages/conference-rooms.tsx';
import { AudioPage } from './pages/audio.tsx';
import { VoicemailPage } from './pages/voicemail.tsx';
import { ImportExportPage } from './pages/import-export.tsx';
import { SettingsPage } from './pages/settings.tsx';
import { ShortCodesPage } from './pages/short-codes.tsx';
import { StatusPage } from './pages/status.tsx';
import { TrunksPage } from './pages/trunks.tsx';
import { UserFormPage } from './pages/user-form.tsx';
import { UsersPage } from './pages/users.tsx';
import { ExtensionDetailPage } from './pages/extension-detail.tsx';
import { AdminsPage } from './pages/admins.tsx';
import { AuditPage } from './pages/audit.tsx';
import { BackupPage } from './pages/backup.tsx';
import { CertificatesPage } from './pages/certificates.tsx';
import { SystemPage } from './pages/system.tsx';
import { GATEWAY_PAGES, MEDIA_PAGES, PROVISIONING_PAGES, SYSTEM_PAGES, SectionTabs, sectionEntry } from './pages/section-nav.tsx';
import { DevicesPage } from './pages/provisioning-devices.tsx';
import { ProvisioningRequestsPage } from './pages/provisioning-requests.tsx';
import { DialPlanPage } from './pages/provisioning-dialplan.tsx';
import { GatewayUsersPage } from './pages/provisioning-gateway-users.tsx';
import { GatewayLinesPage } from './pages/gateway-users.tsx';
import { GatewaySettingsPage } from './pages/gateway-settings.tsx';
import { GatewayProxiesPage } from './pages/gateway-proxies.tsx';
import { GatewayImportPage } from './pages/gateway-import.tsx';
import { href, navigate, useRoute, type Route } from './router.ts';
import type { Session } from './types.ts';
import { App, Loading, type AppContext } from './ui.tsx';
import './styles.css';

// The System group: the installation itself rather than telephony.

type Phase = { kind: 'loading' } | { kind: 'login'; message?: string } | { kind: 'change'; forced: boolean } | { kind: 'app' };

/** `short`: the text shown, where the full label (the link's accessible name) would not fit the bar. */
const NAV: readonly { path: string; label: string; short?: string }[] = [
  { path: 'status', label: 'System status', short: 'Status' },
  { path: 'users', label: 'Users' },
  { path: 'calls', label: 'Call log' },
  { path: 'hunt-groups', label: 'Hunt groups' },
  { path: 'short-codes', label: 'Short codes' },
  { path: 'voicemail', label: 'Media server: voicemail, IVR menus, conference rooms, audio', short: 'Media' },
  { path: 'trunks', label: 'Trunks & DIDs' },
  { path: 'devices', label: 'Provisioning' },
  { path: 'gateway', label: 'Handset gateway', short: 'Gateway' },
  { path: 'settings', label: 'Settings' },
  { path: 'import-export', label: 'Import / export' },
  { path: 'system', label: 'System' },
];

const System = (p: { section: string; children: ComponentChildren }) => <SectionTabs pages={SYSTEM_PAGES} label="System pages" section={p.section}>{p.children}</SectionTabs>;
const Provisioning = (p: { section: string; children: ComponentChildren }) => <SectionTabs pages={PROVISIONING_PAGES} label="Provisioning pages" section={p.section}>{p.children}</SectionTabs>;
const Gateway = (p: { section: string; children: ComponentChildren }) => <SectionTabs pages={GATEWAY_PAGES} label="Gateway pages" section={p.section}>{p.children}</SectionTabs>;
const Media = (p: { section: string; children: ComponentChildren }) => <SectionTabs pages={MEDIA_PAGES} label="Media server pages" section={p.section}>{p.children}</SectionTabs>;

function Page({ route }: { route: Route }) {
  const [section = 'status', id] = route;
  switch (section) {
    case 'users':
      if (id !== undefined && route[2] === 'detail') return <ExtensionDetailPage key={id} extension={id} />;
      if (id === 'new') return <UserFormPage extension={null} />;
      if (id !== undefined) return <UserFormPage key={id} extension={id} />;
      return <UsersPage />;
    case 'calls':
      return <CallLogPage id={id} />;
    case 'hunt-groups':
      return <HuntGroupsPage edit={id} />;
    case 'short-codes':
      return <ShortCodesPage edit={id} />;
    case 'voicemail': return <Media section={section}><VoicemailPage mailbox={id} /></Media>;
    case 'ivr-menus': return <Media section={section}><IvrMenusPage edit={id} /></Media>;
    case 'conference-rooms': return <Media section={section}><ConferenceRoomsPage edit={id} /></Media>;
    case 'audio': return <Media section={section}><AudioPage /></Media>;
    case 'trunks':
      return <TrunksPage edit={id} />;
    case 'devices': return <Provisioning section={section}><DevicesPage mac={id} view={route[2]} /></Provisioning>;
    case 'provisioning-requests': return <Provisioning section={section}><ProvisioningRequestsPage /></Provisioning>;
    case 'dial-plan': return <Provisioning section={section}><DialPlanPage /></Provisioning>;
    case 'gateway-users': return <Provisioning section={section}><GatewayUsersPage /></Provisioning>;
    case 'gateway': return <Gateway section={section}><GatewayLinesPage edit={id} /></Gateway>;
    case 'gateway-settings': return <Gateway section={section}><GatewaySettingsPage /></Gateway>;
    case 'gateway-proxies': return <Gateway section={section}><GatewayProxiesPage /></Gateway>;
    case 'gateway-import': return <Gateway section={section}><GatewayImportPage /></Gateway>;
    case 'settings':
      return <SettingsPage />;
    case 'import-export':
      return <ImportExportPage />;
    case 'system': return <System section={section}><SystemPage /></System>;
    case 'admins': return <System section={section}><AdminsPage /></System>;
    case 'audit': return <System section={section}><AuditPage /></System>;
    case 'certificates': return <System section={section}><CertificatesPage /></System>;
    case 'backup': return <System section={section}><BackupPage /></System>;
    default:
      return <StatusPage />;
  }
}

function Shell(p: { ctx: AppContext; onLogout: () => void }) {
  const route = useRoute();
  const [menuOpen, setMenuOpen] = useState(false);
  const section = route[0] ?? 'status';
  useEffect(() => setMenuOpen(false), [section]);
  return (
    <App.Provider value={p.ctx}>
      <a class="skip" href="#main" onClick={(e) => {
        e.preventDefault();
        document.getElementById('main')?.focus();
      }}>Skip to content</a>
      <header class="top">
        <span class="brand">Switchboard</span>
        <button type="button" class="menu-toggle" aria-expanded={menuOpen} aria-controls="nav" onClick={() => setMenuOpen(!menuOpen)}>
          Menu
        </button>
        <nav id="nav" aria-label="Main" class={menuOpen ? 'open' : ''}>
          <ul>
            {NAV.map((n) => (
              <li key={n.path}>
                <a href={href(n.path)} aria-current={sectionEntry(section) === n.path ? 'page' : undefined}
                  aria-label={n.short && n.label}>{n.short ?? n.label}</a>
              </li>
            ))}
          </ul>
          <div class="account">
            <span class="who" title={p.ctx.session.roles.join(', ')}>{p.ctx.session.name}</span>
            <a href={href('password')} aria-label="Change password" title="Change password">Password</a>
            <button type="button" onClick={p.onLogout}>Log out</button>
          </div>
        </nav>
      </header>
      <main id="main" tabIndex={-1}>
        <Page route={route} />
      </main>
    </App.Provider>
  );
}

function Root() {
  const [phase, setPhase] = useState<Phase>({ kind: 'loading' });
  const [session, setSession] = useState<Session | null>(null);
  const [typed, setTyped] = useState<string | null>(null);
  const route = useRoute();
  const api = useMemo(() => new Api((problem: SessionProblem, message: string) => {
    if (problem === 'unauthenticated') {
      setSession(null);
      // On arrival a missing session is normal; later it means the session ended.
      setPhase((ph) => ph.kind === 'loading' ? { kind: 'login' } : {
        kind: 'login',
        message: message.includes('inactivity') ? 'Your session ended after inactivity. Log in again.' : 'Your session ended. Log in again.',
      });
    } else {
      setPhase({ kind: 'change', forced: true });
    }
  }), []);

  const enter = (s: Session) => {
    api.csrf = s.csrfToken;
    setSession(s);
    setPhase(s.mustChangePassword ? { kind: 'change', forced: true } : { kind: 'app' });
  };

  useEffect(() => {
    api.get<Session>('/api/session').then(enter, () => setPhase((ph) => (ph.kind === 'loading' ? { kind: 'login' } : ph)));
  }, []);

  const logout = async () => {
    try {
      await api.delete('/api/session');
    } catch {
      // Gone already: the login page is the right place either way.
    }
    api.csrf = null;
    setSession(null);
    setPhase({ kind: 'login', message: 'You are logged out.' });
  };

  if (phase.kind === 'loading') return <main id="main" class="auth"><Loading /></main>;
  if (phase.kind === 'login' || !session) {
    return <LoginPage api={api} message={phase.kind === 'login' ? phase.message : undefined} onLoggedIn={(s, pw) => {
      // Kept only for the forced change, so it need not be typed twice.
      setTyped(s.mustChangePassword ? pw : null);
      enter(s);
    }} />;
  }
  const voluntary = phase.kind === 'app' && route[0] === 'password';
  if (phase.kind === 'change' || voluntary) {
    const forced = phase.kind === 'change';
    return (
      <ChangePasswordPage api={api} session={session} current={forced ? typed : null} forced={forced}
        onCancel={forced ? undefined : () => navigate('status')}
        onChanged={(s) => {
          setTyped(null);
          enter(s);
          if (!forced) navigate('status');
        }} />
    );
  }
  const ctx: AppContext = {
    api, session, canWrite: session.roles.includes('admin'), canSecurity: session.roles.includes('security-admin'),
  };
  return <Shell ctx={ctx} onLogout={logout} />;
}

render(<Root />, document.getElementById('app')!);
