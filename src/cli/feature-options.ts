// The telephony feature options of `user set` (forwarding, do not disturb,
// follow me, pickup group). Values are checked by the store against the model
// (src/model/user-features.ts); errors come back naming the option.
import type { Command } from 'commander';
import { FORWARD_NO_ANSWER_SEC_RANGE, type UserFeaturePatch } from '../model/user-features.ts';
import { integerOrDefault, onOff } from './options.ts';

/** Store field -> option, for error messages. */
export const FEATURE_OPTION_OF: Record<string, string> = {
  forwardUnconditional: '--forward-unconditional',
  forwardBusy: '--forward-busy',
  forwardNoAnswer: '--forward-no-answer',
  forwardNoAnswerSec: '--forward-no-answer-sec',
  forwardNumber: '--forward-number',
  dnd: '--dnd',
  dndExceptions: '--dnd-exceptions',
  followMe: '--follow-me',
  pickupGroup: '--pickup-group',
};

export interface FeatureOptions {
  forwardUnconditional?: string;
  forwardBusy?: string;
  forwardNoAnswer?: string;
  forwardNoAnswerSec?: string;
  forwardNumber?: string;
  dnd?: string;
  dndExceptions?: string;
  followMe?: string;
  pickupGroup?: string;
}

export function addFeatureOptions(cmd: Command): Command {
  const [min, max] = FORWARD_NO_ANSWER_SEC_RANGE;
  return cmd
    .option('--forward-unconditional <number|off>', 'forward every call to this number')
    .option('--forward-busy <number|off>', 'forward calls here while busy')
    .option('--forward-no-answer <number|off>', 'forward calls here when not answered in time')
    .option('--forward-no-answer-sec <seconds>', `ringing time before forward on no answer, ${min}-${max} s ("default" = the no-answer timeout)`)
    .option('--forward-number <number|off>', 'number the forward-on short codes use (setting a forward also sets it)')
    .option('--dnd <on|off>', 'do not disturb')
    .option('--dnd-exceptions <list>', 'callers that ring through do not disturb, e.g. 1001,1002 ("none" = nobody)')
    .option('--follow-me <extension|off>', "ring this user's calls at another extension")
    .option('--pickup-group <group|off>', "pickup group (its users may pick up each other's calls)");
}

/** "off" (or "none") clears a nullable setting. */
function orOff(value: string | undefined): string | null | undefined {
  if (value === undefined) return undefined;
  return ['off', 'none'].includes(value.toLowerCase()) ? null : value;
}

function list(value: string | undefined): string[] | undefined {
  if (value === undefined) return undefined;
  if (value.trim() === '' || value.toLowerCase() === 'none') return [];
  return value.split(',').map((x) => x.trim());
}

/** The feature fields the options ask for; values are checked by the store. @throws CliError */
export function featurePatchOf(o: FeatureOptions): UserFeaturePatch {
  const [min, max] = FORWARD_NO_ANSWER_SEC_RANGE;
  return {
    forwardUnconditional: orOff(o.forwardUnconditional),
    forwardBusy: orOff(o.forwardBusy),
    forwardNoAnswer: orOff(o.forwardNoAnswer),
    forwardNoAnswerSec: integerOrDefault('--forward-no-answer-sec', o.forwardNoAnswerSec, min, max),
    forwardNumber: orOff(o.forwardNumber),
    dnd: onOff('--dnd', o.dnd),
    dndExceptions: list(o.dndExceptions),
    followMe: orOff(o.followMe),
    pickupGroup: orOff(o.pickupGroup),
  };
}
