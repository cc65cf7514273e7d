// `switchboard voicemail list|export|delete`: a user's mailbox, read and
// changed in the store directly (the running server's MWI follows the
// store's mailbox feed, so a deletion turns the lamp off on its own).
import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import type { VoicemailMessage } from '../store/types.ts';
import { CliError, DATA_DIR_OPTION, STORE_OPTION, print, withStore, type StoreLocation } from './common.ts';

interface MailboxOptions extends StoreLocation {
  ext: string;
}

/** One line per message, oldest first: id, caller, time (UTC), duration, folder. */
export function formatMessages(list: readonly VoicemailMessage[]): string[] {
  if (list.length === 0) return ['no messages'];
  return list.map((m) => {
    const who = m.callerName ? `${m.caller} "${m.callerName}"` : m.caller || '-';
    const at = new Date(m.receivedAt).toISOString().replace('T', ' ').slice(0, 19);
    return `${m.id} ${m.folder.padEnd(5)} ${at} ${(m.durationMs / 1000).toFixed(1)} s from ${who}`;
  });
}

async function mustHaveUser(store: { users: { getByExtension(e: string): Promise<unknown> } }, ext: string): Promise<void> {
  if (!(await store.users.getByExtension(ext))) throw new CliError(`no user with extension ${ext}`);
}

export function registerVoicemailCommands(program: Command): void {
  const vm = program.command('voicemail').description("users' mailboxes: list, export and delete messages");
  const withMailbox = (cmd: Command) => cmd
    .requiredOption('--ext <extension>', 'extension of the mailbox')
    .option(...DATA_DIR_OPTION)
    .option(...STORE_OPTION);

  withMailbox(vm.command('list').description('list the messages of a mailbox, oldest first'))
    .option('--json', 'print JSON')
    .action(async (o: MailboxOptions & { json?: boolean }) => {
      const list = await withStore(o, async (s) => {
        await mustHaveUser(s, o.ext);
        return s.voicemail.list(o.ext);
      });
      print(o.json ? JSON.stringify(list, null, 2) : formatMessages(list).join('\n'));
    });

  withMailbox(vm.command('export').description("write a message's recording to a WAV file"))
    .requiredOption('--id <id>', 'message id (see voicemail list)')
    .requiredOption('--out <file>', 'WAV file to write')
    .action(async (o: MailboxOptions & { id: string; out: string }) => {
      const wav = await withStore(o, (s) => s.voicemail.audio(o.ext, o.id));
      if (!wav) throw new CliError(`no message ${o.id} in mailbox ${o.ext}`);
      writeFileSync(o.out, wav);
      print(`wrote ${o.out} (${wav.length} bytes)`);
    });

  withMailbox(vm.command('delete').description('delete a message'))
    .requiredOption('--id <id>', 'message id (see voicemail list)')
    .action(async (o: MailboxOptions & { id: string }) => {
      const removed = await withStore(o, (s) => s.voicemail.remove(o.ext, o.id));
      if (!removed) throw new CliError(`no message ${o.id} in mailbox ${o.ext}`);
      print(`deleted ${o.id}`);
    });
}
