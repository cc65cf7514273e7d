// Repository of the handset gateway (issue 15): its settings (one record,
// defaults from src/model/gateway.ts), its upstream proxies (at most
// MAX_PROXIES), and one line per gateway user (the upstream account and the
// handset registry fields). A line belongs to a local user: it follows a
// renumbering and goes when the user is removed. The upstream MWI state of
// each line is kept here too, so every worker's MWI notifier can answer a
// handset from it (written by the process that holds the subscription).
import type {
  GatewaySettings, GatewaySettingsPatch, HandsetInfo, LineInput, LinePatch, LineView, ProxyInput, ProxyView,
} from '../model/gateway.ts';
import type { ChangeWatcher, WatchOptions } from './types.ts';

/** The upstream message summary of a line (RFC 3842 from the upstream's NOTIFY). */
export interface UpstreamMwi {
  waiting: boolean;
  newMessages: number;
  oldMessages: number;
  /** Epoch ms of the NOTIFY. */
  at: number;
}

/** A line with its secret, for the process that registers it. Never logged, never in a view. */
export interface LineWithSecret extends LineView {
  password: string;
}

export interface GatewayRepository {
  settings(): Promise<GatewaySettings>;
  /** Validated against gatewaySettingsSchema; returns the whole new settings. @throws StoreError invalid */
  updateSettings(patch: GatewaySettingsPatch): Promise<GatewaySettings>;

  /** Ordered by priority, then id. */
  listProxies(): Promise<ProxyView[]>;
  /** @throws StoreError invalid (also: more than MAX_PROXIES, or a duplicate uri) */
  addProxy(input: ProxyInput): Promise<ProxyView>;
  /** By id or by uri. @throws StoreError not-found */
  removeProxy(idOrUri: number | string): Promise<ProxyView>;

  /**
   * Creates or replaces the line of a user (by extension). Refused over the
   * capacity profile's handset limit, and for a duplicate IPEI.
   * @throws StoreError not-found (no such user) | invalid | duplicate (ipei)
   */
  setLine(input: LineInput): Promise<LineView>;
  /** @throws StoreError not-found | invalid | duplicate */
  updateLine(extension: string, patch: LinePatch): Promise<LineView>;
  /** The user stays a local user. @throws StoreError not-found */
  removeLine(extension: string): Promise<LineView>;
  getLine(extension: string): Promise<LineView | undefined>;
  /** Ordered by extension. */
  listLines(): Promise<LineView[]>;
  /** Every line with its password, for the lines manager. */
  linesWithSecrets(): Promise<LineWithSecret[]>;
  /** What the handset reported (B-14); does not move updatedAt. */
  recordHandset(extension: string, info: Partial<HandsetInfo>): Promise<void>;

  /** Upstream MWI per extension (absent: never notified). */
  upstreamMwi(extension: string): Promise<UpstreamMwi | undefined>;
  setUpstreamMwi(extension: string, mwi: UpstreamMwi): Promise<void>;

  /**
   * Any change of settings, proxies or lines (this process's writes too);
   * `mwi` lists the extensions whose upstream MWI changed.
   */
  watch(listener: (change: { config: boolean; mwi: readonly string[] }) => void | Promise<void>, opts?: WatchOptions): ChangeWatcher;
}
