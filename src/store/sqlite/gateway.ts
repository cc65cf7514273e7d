// The handset gateway's settings, proxies, lines and upstream MWI in SQLite
// (rules and SQL shared with PostgreSQL: ../gateway-rows.ts).
import type Database from 'better-sqlite3';
import type { GatewaySettings, GatewaySettingsPatch, HandsetInfo, LineInput, LinePatch, LineView, ProxyInput, ProxyView } from '../../model/gateway.ts';
import {
  GW_SQL, checkLineFits, checkProfileFits, findProxy, ipeiTaken, lineFromInput, lineFromPatch, lineNotFound, mergedHandset,
  mwiValues, newProxy, noUser, patchedSettings, revisionPair, settingsOf, toLine, toLineWithSecret, toMwi, toProxy,
  type LineRow, type MwiRow, type ProxyRow,
} from '../gateway-rows.ts';
import type { GatewayRepository, LineWithSecret, UpstreamMwi } from '../gateway-types.ts';
import type { ChangeWatcher, WatchOptions } from '../types.ts';
import { startWatch } from '../watch.ts';

export class SqliteGatewayRepository implements GatewayRepository {
  private readonly s;

  constructor(private readonly db: Database.Database, private readonly now: () => number, private readonly onError: (err: Error) => void) {
    const p = <R>(sql: string) => db.prepare<unknown[], R>(sql);
    this.s = {
      settings: p<string>(GW_SQL.settings).pluck(),
      saveSettings: p(GW_SQL.saveSettings),
      proxies: p<ProxyRow>(GW_SQL.proxies),
      addProxy: p<ProxyRow>(GW_SQL.addProxy),
      removeProxy: p(GW_SQL.removeProxy),
      lines: p<LineRow>(GW_SQL.lines),
      line: p<LineRow>(GW_SQL.line),
      lineCount: p<number>(GW_SQL.lineCount).pluck(),
      userId: p<number>(GW_SQL.userId).pluck(),
      ipeiHolder: p<string>(GW_SQL.ipeiHolder).pluck(),
      insertLine: p(GW_SQL.insertLine),
      updateLine: p(GW_SQL.updateLine),
      removeLine: p(GW_SQL.removeLine),
      handset: p(GW_SQL.handset),
      mwi: p<MwiRow>(GW_SQL.mwi),
      mwiSince: p<string>(GW_SQL.mwiSince).pluck(),
      bumpMwi: p(GW_SQL.bumpMwi),
      setMwi: p(GW_SQL.setMwi),
      removeMwi: p(GW_SQL.removeMwi),
      revisions: p<{ name: string; revision: number }>(GW_SQL.revisions),
    };
  }

  async settings(): Promise<GatewaySettings> {
    return settingsOf(this.s.settings.get());
  }

  async updateSettings(patch: GatewaySettingsPatch): Promise<GatewaySettings> {
    return this.db.transaction(() => {
      const { record, settings } = patchedSettings(this.s.settings.get(), patch);
      checkProfileFits(settings, this.s.lineCount.get()!);
      this.s.saveSettings.run(record);
      return settings;
    }).immediate();
  }

  async listProxies(): Promise<ProxyView[]> {
    return this.s.proxies.all().map(toProxy);
  }

  async addProxy(input: ProxyInput): Promise<ProxyView> {
    return this.db.transaction(() => {
      const p = newProxy(input, this.s.proxies.all());
      return toProxy(this.s.addProxy.get(p.uri, p.priority, p.weight, this.now())!);
    }).immediate();
  }

  async removeProxy(idOrUri: number | string): Promise<ProxyView> {
    return this.db.transaction(() => {
      const p = findProxy(this.s.proxies.all().map(toProxy), idOrUri);
      this.s.removeProxy.run(p.id);
      return p;
    }).immediate();
  }

  async setLine(input: LineInput): Promise<LineView> {
    return this.db.transaction(() => {
      const current = typeof input?.extension === 'string' ? this.s.line.get(input.extension) : undefined;
      const l = lineFromInput(input, current);
      const userId = this.s.userId.get(l.extension);
      if (userId === undefined) throw noUser(l.extension);
      this.checkIpei(l.ipei, userId);
      const t = this.now();
      if (current) {
        this.s.updateLine.run(...l.values, t, userId);
      } else {
        checkLineFits(settingsOf(this.s.settings.get()), this.s.lineCount.get()!);
        this.s.insertLine.run(userId, ...l.values, '{}', t, t);
      }
      return toLine(this.s.line.get(l.extension)!);
    }).immediate();
  }

  async updateLine(extension: string, patch: LinePatch): Promise<LineView> {
    return this.db.transaction(() => {
      const current = this.s.line.get(extension);
      if (!current) throw lineNotFound(extension);
      const l = lineFromPatch(current, patch);
      this.checkIpei(l.ipei, current.user_id);
      this.s.updateLine.run(...l.values, this.now(), current.user_id);
      return toLine(this.s.line.get(current.extension)!);
    }).immediate();
  }

  private checkIpei(ipei: string | null, userId: number): void {
    const holder = ipei === null ? undefined : this.s.ipeiHolder.get(ipei, userId);
    if (holder !== undefined) throw ipeiTaken(ipei!, holder);
  }

  async removeLine(extension: string): Promise<LineView> {
    return this.db.transaction(() => {
      const current = this.s.line.get(extension);
      if (!current) throw lineNotFound(extension);
      this.s.removeMwi.run(current.user_id);
      this.s.removeLine.run(current.user_id);
      return toLine(current);
    }).immediate();
  }

  async getLine(extension: string): Promise<LineView | undefined> {
    const row = this.s.line.get(extension);
    return row && toLine(row);
  }

  async listLines(): Promise<LineView[]> {
    return this.s.lines.all().map(toLine);
  }

  async linesWithSecrets(): Promise<LineWithSecret[]> {
    return this.s.lines.all().map(toLineWithSecret);
  }

  async recordHandset(extension: string, info: Partial<HandsetInfo>): Promise<void> {
    this.db.transaction(() => {
      const current = this.s.line.get(extension);
      if (!current) throw lineNotFound(extension);
      this.s.handset.run(mergedHandset(current.handset, info), current.user_id);
    }).immediate();
  }

  async upstreamMwi(extension: string): Promise<UpstreamMwi | undefined> {
    const row = this.s.mwi.get(extension);
    return row && toMwi(row);
  }

  async setUpstreamMwi(extension: string, mwi: UpstreamMwi): Promise<void> {
    this.db.transaction(() => {
      const current = this.s.line.get(extension);
      if (!current) throw lineNotFound(extension);
      this.s.bumpMwi.run();
      this.s.setMwi.run(current.user_id, ...mwiValues(mwi));
    }).immediate();
  }

  watch(listener: (change: { config: boolean; mwi: readonly string[] }) => void | Promise<void>, opts: WatchOptions = {}): ChangeWatcher {
    let seen: { config: number; mwi: number } | undefined;
    return startWatch(async () => {
      const r = revisionPair(this.s.revisions.all());
      if (seen && r.config === seen.config && r.mwi === seen.mwi) return false;
      const mwi = seen?.mwi === r.mwi ? [] : this.s.mwiSince.all(seen?.mwi ?? -1);
      await listener({ config: seen?.config !== r.config, mwi });
      seen = r;
      return true;
    }, { intervalMs: opts.intervalMs ?? 500, onError: this.onError });
  }
}
