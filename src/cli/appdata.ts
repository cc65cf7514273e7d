// `switchboard ivr ...`, `conference ...`, `audio ...` and `moh ...`: the
// media server's configuration, written to the store like `huntgroup`; the
// running server follows the store's change feed and needs no restart.
import { readFile, stat } from 'node:fs/promises';
import type { Command } from 'commander';
import { AUDIO_KINDS, AUDIO_MAX_BYTES, audioNameFromPath, type AudioFile, type AudioKind } from '../model/audio-file.ts';
import { ROOM_MAX_PARTICIPANTS_RANGE, roomView, type ConferenceRoom } from '../model/conference-room.ts';
import type { IvrAction, IvrMenu } from '../model/ivr-menu.ts';
import { WavError, prepareUpload } from '../media/wav-upload.ts';
import type { Store } from '../store/types.ts';
import { CliError, DATA_DIR_OPTION, STORE_OPTION, print, withStore, type StoreLocation } from './common.ts';
import { readJsonObject } from './json-file.ts';
import { integer, storeAsOptions } from './options.ts';

type Where = StoreLocation & { json?: boolean };

function withStoreOptions(c: Command): Command {
  return c.option(...DATA_DIR_OPTION).option(...STORE_OPTION);
}

const actionText = (a: IvrAction) => ('target' in a ? `${a.type}:${a.target}` : a.type);

function menuLine(m: IvrMenu): string {
  const options = Object.entries(m.options).map(([d, a]) => `${d}=${actionText(a!)}`).join(',') || '-';
  return [m.number, m.name, `greeting=${m.greeting ?? 'default'}`, `options=${options}`, `timeout=${actionText(m.onTimeout)}`,
    `invalid=${actionText(m.onInvalid)}`, `operator=${m.operator ?? '-'}`].join('\t');
}

function roomLine(r: ConferenceRoom): string {
  return [r.number, r.name || '-', `pin=${r.pin === null ? 'none' : 'set'}`, `max=${r.maxParticipants}`, `announce=${r.announceJoin ? 'on' : 'off'}`].join('\t');
}

function audioLine(a: AudioFile): string {
  return [a.name, a.kind, `${a.size} bytes`, `${(a.durationMs / 1000).toFixed(1)}s`].join('\t');
}

/** A WAV file from disk, checked as an upload is; its bytes and length. */
async function readWav(path: string): Promise<{ wav: Uint8Array; durationMs: number }> {
  let wav: Uint8Array;
  try {
    if ((await stat(path)).size > AUDIO_MAX_BYTES) throw new CliError(`--file: ${path} is larger than ${AUDIO_MAX_BYTES} bytes`);
    wav = await readFile(path);
  } catch (err) {
    if (err instanceof CliError) throw err;
    throw new CliError(`--file: cannot read ${path}: ${(err as Error).message}`);
  }
  try {
    return prepareUpload(wav);
  } catch (err) {
    if (err instanceof WavError) throw new CliError(`--file: ${path}: ${err.message}`);
    throw err;
  }
}

function kindOf(value: string | undefined, fallback: AudioKind): AudioKind {
  if (value === undefined) return fallback;
  if (!(AUDIO_KINDS as readonly string[]).includes(value)) throw new CliError(`--kind: must be ${AUDIO_KINDS.join(' or ')}, not ${JSON.stringify(value)}`);
  return value as AudioKind;
}

async function addAudio(s: Store, name: string, path: string, kind: AudioKind): Promise<AudioFile> {
  const { wav, durationMs } = await readWav(path);
  return storeAsOptions({ name: '--name', kind: '--kind' }, () => s.audioFiles.put({ name, kind, wav, durationMs }));
}

export function registerAppDataCommands(program: Command): void {
  const ivr = program.command('ivr').description('manage IVR menus (auto attendant: a number that answers and routes by the digit pressed)');

  withStoreOptions(ivr.command('set').description('add an IVR menu, or replace the one with this number, from a JSON file (see README)')
    .requiredOption('--number <number>', 'dialled number of the menu')
    .requiredOption('--file <menu.json>', 'the menu: name, greeting, timeoutSec, maxRetries, options, onTimeout, onInvalid, operator'))
    .action(async (o: Where & { number: string; file: string }) => {
      const menu = await readJsonObject(o.file, 'the menu');
      if (menu.number !== undefined && menu.number !== o.number) {
        throw new CliError(`--file: ${o.file} names number ${JSON.stringify(menu.number)}, --number says ${o.number}`);
      }
      const m = await withStore(o, (s) => storeAsOptions({ number: '--number' }, () => s.ivrMenus.set({ ...menu, number: o.number } as never)));
      print(`set IVR menu ${m.number}`);
    });

  withStoreOptions(ivr.command('list').description('list IVR menus').option('--json', 'print JSON'))
    .action(async (o: Where) => {
      const menus = await withStore(o, (s) => s.ivrMenus.list());
      if (o.json) print(JSON.stringify(menus));
      else for (const m of menus) print(menuLine(m));
    });

  withStoreOptions(ivr.command('remove').description('remove an IVR menu (refused while another menu sends callers to it)')
    .requiredOption('--number <number>', 'the menu'))
    .action(async (o: Where & { number: string }) => {
      await withStore(o, (s) => s.ivrMenus.remove(o.number));
      print(`removed IVR menu ${o.number}`);
    });

  const conf = program.command('conference').description('manage meet-me conference rooms');
  const [minMax, maxMax] = ROOM_MAX_PARTICIPANTS_RANGE;
  const ROOM_OPTIONS = { number: '--number', name: '--name', pin: '--pin', maxParticipants: '--max', announceJoin: '--announce' };

  withStoreOptions(conf.command('add').description('add a conference room')
    .requiredOption('--number <number>', 'dialled number of the room')
    .option('--pin <digits>', 'digits callers type to join (default: none)')
    .option('--name <name>', 'name of the room')
    .option('--max <n>', `participants at most, ${minMax}-${maxMax} (default 10)`)
    .option('--announce <on|off>', 'a tone when someone joins or leaves (default on)'))
    .action(async (o: Where & { number: string; pin?: string; name?: string; max?: string; announce?: string }) => {
      const announce = o.announce === undefined ? undefined : { on: true, off: false }[o.announce.toLowerCase()];
      if (o.announce !== undefined && announce === undefined) throw new CliError(`--announce: must be on or off, not ${JSON.stringify(o.announce)}`);
      const input = { number: o.number, pin: o.pin, name: o.name, maxParticipants: integer('--max', o.max, minMax, maxMax), announceJoin: announce };
      const r = await withStore(o, (s) => storeAsOptions(ROOM_OPTIONS, () => s.conferenceRooms.add(input)));
      print(`added conference room ${r.number}`);
    });

  withStoreOptions(conf.command('list').description('list conference rooms (PINs are not shown)').option('--json', 'print JSON'))
    .action(async (o: Where) => {
      const rooms = await withStore(o, (s) => s.conferenceRooms.list());
      if (o.json) print(JSON.stringify(rooms.map(roomView)));
      else for (const r of rooms) print(roomLine(r));
    });

  withStoreOptions(conf.command('remove').description('remove a conference room').requiredOption('--number <number>', 'the room'))
    .action(async (o: Where & { number: string }) => {
      await withStore(o, (s) => s.conferenceRooms.remove(o.number));
      print(`removed conference room ${o.number}`);
    });

  const audio = program.command('audio').description('manage audio files (IVR greetings, music on hold)');

  withStoreOptions(audio.command('add').description(`add a WAV file (PCM, A-law or µ-law, at most ${AUDIO_MAX_BYTES} bytes), or replace the one of this name`)
    .requiredOption('--file <file.wav>', 'the WAV file')
    .option('--name <name>', 'name menus refer to it by (default: the file name without .wav)')
    .option('--kind <kind>', `${AUDIO_KINDS.join(' or ')} (default prompt)`))
    .action(async (o: Where & { file: string; name?: string; kind?: string }) => {
      const name = o.name ?? audioNameFromPath(o.file);
      if (!name) throw new CliError('--name: the file name gives no usable name; give --name');
      const kind = kindOf(o.kind, 'prompt');
      const a = await withStore(o, (s) => addAudio(s, name, o.file, kind));
      print(`added audio file ${a.name} (${(a.durationMs / 1000).toFixed(1)}s)`);
    });

  withStoreOptions(audio.command('list').description('list audio files').option('--json', 'print JSON'))
    .action(async (o: Where) => {
      const files = await withStore(o, (s) => s.audioFiles.list());
      if (o.json) print(JSON.stringify(files));
      else for (const a of files) print(audioLine(a));
    });

  withStoreOptions(audio.command('remove').description('remove an audio file (refused while a menu or the music on hold uses it)')
    .requiredOption('--name <name>', 'the file'))
    .action(async (o: Where & { name: string }) => {
      await withStore(o, (s) => s.audioFiles.remove(o.name));
      print(`removed audio file ${o.name}`);
    });

  const moh = program.command('moh').description('music on hold: what held parties hear');

  withStoreOptions(moh.command('set').description('upload a WAV file as an audio file named after it and play it on hold')
    .requiredOption('--file <music.wav>', 'the WAV file')
    .option('--name <name>', 'audio file name (default: the file name without .wav)'))
    .action(async (o: Where & { file: string; name?: string }) => {
      const name = o.name ?? audioNameFromPath(o.file);
      if (!name) throw new CliError('--name: the file name gives no usable name; give --name');
      await withStore(o, async (s) => {
        await addAudio(s, name, o.file, 'moh');
        await s.audioFiles.setMoh(name);
      });
      print(`music on hold: ${name}`);
    });

  withStoreOptions(moh.command('show').description('the music on hold now').option('--json', 'print JSON'))
    .action(async (o: Where) => {
      const file = await withStore(o, (s) => s.audioFiles.moh());
      print(o.json ? JSON.stringify({ file }) : file ?? 'default');
    });

  withStoreOptions(moh.command('reset').description('back to the music that ships'))
    .action(async (o: Where) => {
      await withStore(o, (s) => s.audioFiles.setMoh(null));
      print('music on hold: default');
    });
}
