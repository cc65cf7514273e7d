// The handset gateway's settings, proxies, lines and upstream MWI in
// PostgreSQL (semantics as src/store/sqlite/gateway.ts; rules and SQL in
// ../gateway-rows.ts). Writes hold the directory lock: the capacity and IPEI
// checks read rows another node may be writing.
import type { GatewaySettings, GatewaySettingsPatch, HandsetInfo, LineInput, LinePatch, LineView, ProxyInput, ProxyView } from '../../model/gateway.ts';
import {
  GW_SQL, checkLineFits, checkProfileFits, findProxy, ipeiTaken, lineFromInput, lineFromPatch, lineNotFound, mergedHandset,
  mwiValues, newProxy, noUser, patchedSettings, revisionPair, settingsOf, toLine, toLineWithSecret, toMwi, toProxy,
  type LineRow, type MwiRow, type ProxyRow,
} from '../gateway-rows.ts';
import type { GatewayRepository, LineWithSecret, UpstreamMwi } from '../gateway-types.ts';
import type { ChangeWatcher, WatchOptions } from '../types.ts';
import { startWatch } from '../watch.ts';
import type { PgDb } from './db.ts';
import type { WatchWiring } from './watch-wiring.ts';

/** Lines in the SQLite order (shortest extension first, then bytewise). */
const LINES = `${GW_SQL.lines} COLLATE "C"`;

async function storedSettings(t: PgDb): Promise<string | undefined> {
  return (await t.get<{ value: string }>(GW_SQL.settings))?.value;
}

async function lineCount(t: PgDb): Promise<number> {
  return (await t.get<{ n: number }>(GW_SQL.lineCount))!.n;
}

async function lineRow(t: PgDb, extension: string): Promise<LineRow | undefined> {
  return typeof extension === 'string' ? t.get<LineRow>(GW_SQL.line, [extension]) : undefined;
}

async function checkIpei(t: PgDb, ipei: string | null, userId: number): Promise<void> {
  const holder = ipei === null ? undefined : await t.get<{ extension: string }>(GW_SQL.ipeiHolder, [ipei, userId]);
  if (holder) throw ipeiTaken(ipei!, holder.extension);
}

export class PgGatewayRepository implements GatewayRepository {
  constructor(private readonly db: PgDb, private readonly now: () => number, private readonly wiring: WatchWiring) {}

  async settings(): Promise<GatewaySettings> {
    return settingsOf(await storedSettings(this.db));
  }

  updateSettings(patch: GatewaySettingsPatch): Promise<GatewaySettings> {
    return this.db.tx(async (t) => {
      const { record, settings } = patchedSettings(await storedSettings(t), patch);
      checkProfileFits(settings, await lineCount(t));
      await t.run(GW_SQL.saveSettings, [record]);
      return settings;
    }, { lock: true });
  }

  async listProxies(): Promise<ProxyView[]> {
    return (await this.db.all<ProxyRow>(GW_SQL.proxies)).map(toProxy);
  }

  addProxy(input: ProxyInput): Promise<ProxyView> {
    return this.db.tx(async (t) => {
      const p = newProxy(input, await t.all<ProxyRow>(GW_SQL.proxies));
      return toProxy((await t.get<ProxyRow>(GW_SQL.addProxy, [p.uri, p.priority, p.weight, this.now()]))!);
    }, { lock: true });
  }

  removeProxy(idOrUri: number | string): Promise<ProxyView> {
    return this.db.tx(async (t) => {
      const p = findProxy((await t.all<ProxyRow>(GW_SQL.proxies)).map(toProxy), idOrUri);
      await t.run(GW_SQL.removeProxy, [p.id]);
      return p;
    }, { lock: true });
  }

  setLine(input: LineInput): Promise<LineView> {
    return this.db.tx(async (t) => {
      const current = await lineRow(t, input?.extension);
      const l = lineFromInput(input, current);
      const user = await t.get<{ id: number }>(GW_SQL.userId, [l.extension]);
      if (!user) throw noUser(l.extension);
      await checkIpei(t, l.ipei, user.id);
      const at = this.now();
      if (current) {
        await t.run(GW_SQL.updateLine, [...l.values, at, user.id]);
      } else {
        checkLineFits(settingsOf(await storedSettings(t)), await lineCount(t));
        await t.run(GW_SQL.insertLine, [user.id, ...l.values, '{}', at, at]);
      }
      return toLine((await lineRow(t, l.extension))!);
    }, { lock: true });
  }

  updateLine(extension: string, patch: LinePatch): Promise<LineView> {
    return this.db.tx(async (t) => {
      const current = await lineRow(t, extension);
      if (!current) throw lineNotFound(extension);
      const l = lineFromPatch(current, patch);
      await checkIpei(t, l.ipei, current.user_id);
      await t.run(GW_SQL.updateLine, [...l.values, this.now(), current.user_id]);
      return toLine((await lineRow(t, current.extension))!);
    }, { lock: true });
  }

  removeLine(extension: string): Promise<LineView> {
    return this.db.tx(async (t) => {
      const current = await lineRow(t, extension);
      if (!current) throw lineNotFound(extension);
      await t.run(GW_SQL.removeMwi, [current.user_id]);
      await t.run(GW_SQL.removeLine, [current.user_id]);
      return toLine(current);
    }, { lock: true });
  }

  async getLine(extension: string): Promise<LineView | undefined> {
    const row = await lineRow(this.db, extension);
    return row && toLine(row);
  }

  async listLines(): Promise<LineView[]> {
    return (await this.db.all<LineRow>(LINES)).map(toLine);
  }

  async linesWithSecrets(): Promise<LineWithSecret[]> {
    return (await this.db.all<LineRow>(LINES)).map(toLineWithSecret);
  }

  recordHandset(extension: string, info: Partial<HandsetInfo>): Promise<void> {
    return this.db.tx(async (t) => {
      const current = await lineRow(t, extension);
      if (!current) throw lineNotFound(extension);
      await t.run(GW_SQL.handset, [mergedHandset(current.handset, info), current.user_id]);
    });
  }

  async upstreamMwi(extension: string): Promise<UpstreamMwi | undefined> {
    const row = await this.db.get<MwiRow>(GW_SQL.mwi, [extension]);
    return row && toMwi(row);
  }

  setUpstreamMwi(extension: string, mwi: UpstreamMwi): Promise<void> {
    return this.db.tx(async (t) => {
      const current = await lineRow(t, extension);
      if (!current) throw lineNotFound(extension);
      // The bump takes the row lock of the revision: MWI writers queue here, so revisions and rows agree.
      await t.run(GW_SQL.bumpMwi);
      await t.run(GW_SQL.setMwi, [current.user_id, ...mwiValues(mwi)]);
    });
  }

  watch(listener: (change: { config: boolean; mwi: readonly string[] }) => void | Promise<void>, opts: WatchOptions = {}): ChangeWatcher {
    let seen: { config: number; mwi: number } | undefined;
    const config = this.wiring.triggers('gateway', opts);
    const mwiWake = this.wiring.triggers('gateway_mwi', opts);
    return startWatch(async () => {
      const r = revisionPair(await this.db.all<{ name: string; revision: number }>(GW_SQL.revisions));
      if (seen && r.config === seen.config && r.mwi === seen.mwi) return false;
      const mwi = seen?.mwi === r.mwi ? [] : (await this.db.all<{ extension: string }>(GW_SQL.mwiSince, [seen?.mwi ?? -1])).map((m) => m.extension);
      await listener({ config: seen?.config !== r.config, mwi });
      seen = r;
      return true;
    }, {
      ...config,
      wake: (fire) => {
        const a = config.wake!(fire);
        const b = mwiWake.wake!(fire);
        return () => { a(); b(); };
      },
    });
  }
}
