// `switchboard user set`: changes one user's settings in place. The running
// server follows the user change log, so the change applies to its next call.
import { Option, type Command } from 'commander';
import type { UserPatch } from '../store/types.ts';
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
  password?: string;
  enabled?: string;
  dataDir?: string; store?: string;
  [media: string]: unknown;
}

/** Store field -> option, for error messages. */
const OPTION_OF: Record<string, string> = {
  extension: '--ext',
  name: '--name',
  fullName: '--full-name',
  password: '--password',
  enabled: '--enabled',
  callWaiting: '--call-waiting',
  codecs: '--codecs',
  maxCalls: '--max-calls',
  noAnswerTimeoutSec: '--no-answer-timeout',
  outboundCalls: '--outbound',
  ...FEATURE_OPTION_OF,
};

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
    name: o.name,
    fullName: o.fullName,
    password: o.password,
    enabled: onOff('--enabled', o.enabled),
    ...featurePatchOf(o),
  };
  const media = mediaPatchOf(o, true);
  if (Object.keys(media).length > 0) patch.media = media;
  for (const k of Object.keys(patch) as (keyof UserPatch)[]) if (patch[k] === undefined) delete patch[k];
  if (Object.keys(patch).length === 0) throw new CliError('user set: give at least one setting to change (see --help)');
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
    .option('--name <name>', 'account name')
    .option('--full-name <name>', 'display name')
    .option('--password <secret>', 'SIP password (login code)')
    .option('--enabled <on|off>', 'enable or disable the account');
  addMediaOptions(addFeatureOptions(cmd), true)
    .option(...DATA_DIR_OPTION)
    .option(...STORE_OPTION)
    .action(async (o: SetOptions) => {
      const patch = patchOf(o);
      const u = await withStore(o, (s) => storeAsOptions(OPTION_OF, async () => await s.users.update(o.ext, patch)));
      print(`updated ${u.extension}`);
    });
}
