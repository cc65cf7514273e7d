// `switchboard user set`: changes one user's settings in place. The running
// server follows the user change log, so the change applies to its next call.
import { Option, type Command } from 'commander';
import type { Store, UserPatch } from '../store/types.ts';
import type { LinePatch, LineView } from '../model/gateway.ts';
import { lineText } from './gateway.ts';
import { renumberNote } from '../model/user-renumber.ts';
import { MWI_MODES } from '../model/user.ts';
import { generateSipPassword, USER_RULES_KEY, userRuleIssues, userRulesOf } from '../model/user-rules.ts';
import { MAX_CALLS_RANGE, NO_ANSWER_TIMEOUT_RANGE, validCodecs } from '../store/user-validate.ts';
import { CliError, DATA_DIR_OPTION, STORE_OPTION, print, withStore } from './common.ts';
import { asOptions, storeAsOptions, integerOrDefault, onOff } from './options.ts';
import { addMediaOptions, mediaPatchOf } from './media-options.ts';
import { addFeatureOptions, FEATURE_OPTION_OF, featurePatchOf, type FeatureOptions } from './feature-options.ts';

interface SetOptions extends FeatureOptions {
  ext: string;
  callWaiting?: string;
  codecs?: string;
  maxCalls?: string;
  noAnswerTimeout?: string;
  outbound?: string;
  name?: string;
  fullName?: string;
  authUser?: string;
  newExt?: string;
  password?: string;
  enabled?: string;
  voicemail?: string;
  voicemailCode?: string;
  mwi?: string;
  upstreamUser?: string;
  upstreamDomain?: string;
  upstreamAuthUser?: string;
  upstreamPassword?: string;
  upstreamDisplayName?: string;
  ipei?: string;
  accessCode?: string;
  standbyText?: string;
  lineDisabled?: string;
  /** false with --no-upstream. */
  upstream?: boolean;
  dataDir?: string; store?: string;
  [media: string]: unknown;
}

/** Store field -> option, for error messages. */
const OPTION_OF: Record<string, string> = {
  extension: '--new-ext',
  name: '--name',
  authUser: '--auth-user',
  password: '--password',
  enabled: '--enabled',
  callWaiting: '--call-waiting',
  codecs: '--codecs',
  maxCalls: '--max-calls',
  noAnswerTimeoutSec: '--no-answer-timeout',
  outboundCalls: '--outbound',
  voicemail: '--voicemail',
  voicemailCode: '--voicemail-code',
  mwi: '--mwi',
  ...FEATURE_OPTION_OF,
};

/** Line field -> option (the gateway line of the user, issue 15). */
const LINE_OPTION_OF: Record<string, string> = {
  upstreamUser: '--upstream-user',
  upstreamDomain: '--upstream-domain',
  authUser: '--upstream-auth-user',
  password: '--upstream-password',
  displayName: '--upstream-display-name',
  ipei: '--ipei',
  accessCode: '--access-code',
  standbyText: '--standby-text',
  disabled: '--line-disabled',
};

/** The line patch the options ask for; undefined when they name no line field. */
function linePatchOf(o: SetOptions): LinePatch | undefined {
  const patch: LinePatch = {
    upstreamUser: o.upstreamUser,
    upstreamDomain: o.upstreamDomain,
    authUser: o.upstreamAuthUser,
    password: o.upstreamPassword,
    displayName: o.upstreamDisplayName,
    // "none" takes the handset off the line (an empty value would read as a typo).
    ipei: o.ipei === undefined ? undefined : o.ipei.toLowerCase() === 'none' ? null : o.ipei,
    accessCode: o.accessCode,
    standbyText: o.standbyText,
    disabled: onOff('--line-disabled', o.lineDisabled),
  };
  for (const k of Object.keys(patch) as (keyof LinePatch)[]) if (patch[k] === undefined) delete patch[k];
  if (o.upstream === false && Object.keys(patch).length > 0) throw new CliError('--no-upstream: cannot be combined with line settings');
  return Object.keys(patch).length > 0 ? patch : undefined;
}

/** Writes the user's line: a patch of the line there is, else a new line (which needs --upstream-user). */
async function writeLine(s: Store, extension: string, patch: LinePatch): Promise<LineView> {
  const current = await s.gateway.getLine(extension);
  if (current) return s.gateway.updateLine(extension, patch);
  if (patch.upstreamUser === undefined) throw new CliError(`${extension} has no gateway line: give --upstream-user to create one`);
  return s.gateway.setLine({ ...patch, extension, upstreamUser: patch.upstreamUser });
}

function codecList(value: string | undefined): readonly string[] | null | undefined {
  if (value === undefined) return undefined;
  if (value.toLowerCase() === 'default') return null;
  return asOptions(OPTION_OF, () => validCodecs(value.split(',').map((c) => c.trim())));
}

/** The patch the options ask for. @throws CliError naming the first bad option */
function patchOf(o: SetOptions): UserPatch {
  const patch: UserPatch = {
    callWaiting: onOff('--call-waiting', o.callWaiting),
    codecs: codecList(o.codecs),
    maxCalls: integerOrDefault('--max-calls', o.maxCalls, ...MAX_CALLS_RANGE),
    noAnswerTimeoutSec: integerOrDefault('--no-answer-timeout', o.noAnswerTimeout, ...NO_ANSWER_TIMEOUT_RANGE),
    outboundCalls: onOff('--outbound', o.outbound),
    extension: o.newExt,
    name: o.name ?? o.fullName,
    authUser: o.authUser,
    password: o.password,
    enabled: onOff('--enabled', o.enabled),
    voicemail: onOff('--voicemail', o.voicemail),
    // "none" clears the code (the mailbox then takes no login from another phone).
    voicemailCode: o.voicemailCode === undefined ? undefined : o.voicemailCode.toLowerCase() === 'none' ? null : o.voicemailCode,
    mwi: o.mwi as UserPatch['mwi'],
    ...featurePatchOf(o),
  };
  const media = mediaPatchOf(o, true);
  if (Object.keys(media).length > 0) patch.media = media;
  for (const k of Object.keys(patch) as (keyof UserPatch)[]) if (patch[k] === undefined) delete patch[k];
  return patch;
}

function noAnswerTimeoutOption(): Option {
  const o = new Option('--no-answer-timeout <seconds>', `ringing time, ${NO_ANSWER_TIMEOUT_RANGE.join('-')} s ("default" = system default)`);
  // Commander reads a leading "--no-" as the negation of "--answer-timeout";
  // this is a value option of its own.
  o.negate = false;
  return o;
}

export function registerUserSetCommand(user: Command): void {
  const cmd = user
    .command('set')
    .description('change settings of a user (takes effect on a running server)')
    .requiredOption('--ext <extension>', 'extension of the user to change')
    .option('--call-waiting <on|off>', 'ring this user for a second call while busy')
    .option('--codecs <list>', 'codecs in preference order, e.g. PCMU,PCMA,G722 ("default" = system default)')
    .option('--max-calls <n>', `simultaneous calls, ${MAX_CALLS_RANGE.join('-')} ("default" = system default)`)
    .addOption(noAnswerTimeoutOption())
    .option('--outbound <on|off>', 'may call out through SIP trunks')
    .option('--new-ext <extension>', 'renumber the user (the auth user follows when it equals the old extension)')
    .option('--name <name>', 'display name (caller ID, status)')
    .addOption(new Option('--full-name <name>', 'old name of --name').hideHelp())
    .option('--auth-user <user>', 'SIP digest user name the phone logs in with')
    .option('--password <secret>', 'SIP password (login code); "generate" makes a strong one and prints it once')
    .option('--enabled <on|off>', 'enable or disable the account')
    .option('--voicemail <on|off>', 'the user has a mailbox')
    .option('--voicemail-code <digits>', 'mailbox PIN, 1-16 digits ("none" removes it)')
    .option(`--mwi <${MWI_MODES.join('|')}>`, 'message waiting: the phone subscribes, or the server notifies it unasked')
    .option('--upstream-user <user>', "handset gateway: the user's upstream account (creates the line when there is none)")
    .option('--upstream-domain <domain>', "the line's registrar domain (default: the gateway's default domain)")
    .option('--upstream-auth-user <user>', 'digest user upstream (default: the upstream user)')
    .option('--upstream-password <secret>', 'digest password upstream (write-only; "" clears it)')
    .option('--upstream-display-name <name>', "display name upstream (default: the user's name)")
    .option('--ipei <ipei>', 'the handset\'s IPEI, 5 digits, a space, 7 digits ("none" removes it)')
    .option('--access-code <digits>', 'the handset\'s subscription access code, up to 8 digits')
    .option('--standby-text <text>', 'text the handset shows when idle, up to 24 characters')
    .option('--line-disabled <on|off>', 'switch the line off (not registered upstream)')
    .option('--no-upstream', 'remove the gateway line (the user stays)');
  addMediaOptions(addFeatureOptions(cmd), true)
    .option(...DATA_DIR_OPTION)
    .option(...STORE_OPTION)
    .action(async (o: SetOptions) => {
      const patch = patchOf(o);
      const linePatch = linePatchOf(o);
      if (Object.keys(patch).length === 0 && !linePatch && o.upstream !== false) {
        throw new CliError('user set: give at least one setting to change (see --help)');
      }
      const generated = o.password === 'generate';
      const { before, after, line } = await withStore(o, async (s) => {
        const { before, after } = await storeAsOptions(OPTION_OF, async () => {
          const before = await s.users.getByExtension(o.ext);
          if (Object.keys(patch).length === 0) return { before, after: before };
          const rules = userRulesOf(await s.admin.settings.get(USER_RULES_KEY));
          if (generated) patch.password = generateSipPassword(rules);
          const issues = before ? userRuleIssues(patch, rules, before) : [];
          if (issues.length > 0) throw new CliError(issues.map((i) => `${OPTION_OF[i.path] ?? i.path}: ${i.message}`).join('; '));
          return { before, after: await s.users.update(o.ext, patch) };
        });
        if (!after) throw new CliError(`no user with extension ${o.ext}`);
        const line = o.upstream === false
          ? (await s.gateway.removeLine(after.extension), 'removed' as const)
          : linePatch && await storeAsOptions(LINE_OPTION_OF, () => writeLine(s, after.extension, linePatch));
        return { before, after, line };
      });
      print(`updated ${after.extension}`);
      if (line === 'removed') print(`removed the gateway line of ${after.extension}`);
      else if (line) print(`gateway line ${lineText(line)}`);
      // Shown this once: it is stored for digest authentication and never printed again.
      if (generated) print(`password: ${after.password}`);
      const note = before && renumberNote(before, after);
      if (note) print(note);
    });
}
