// What the REST API and the status feed send, as this page reads it: every
// type comes from the server's zod models (src/model) or the API's schemas
// built on them (src/api/schemas.ts). Type-only imports: nothing of the
// server is bundled, and a change to a model shows here at compile time.
import type { z } from 'zod';
import type { importJobSchema, importReportSchema, listOf, sessionSchema } from '../../src/api/schemas.ts';
import type { UserMediaSettings, UserView } from '../../src/model/user.ts';

export type Session = z.output<typeof sessionSchema>;
export type User = UserView;
export type UserMedia = UserMediaSettings;
export type MediaSecurity = NonNullable<UserMedia['security']>;
export type Page<T> = Omit<z.output<ReturnType<typeof listOf>>, 'items'> & { items: T[] };
export type ImportReport = z.output<typeof importReportSchema>;
/** A big import, run as a job (POST answers 202). */
export type ImportJob = z.output<typeof importJobSchema>;

export type { DidView as Did, TrunkView as Trunk } from '../../src/model/trunk.ts';
export type { PasswordPolicy, SettingsResponse, SettingsView, SystemMedia } from '../../src/model/settings.ts';
export type { HuntGroupView as HuntGroup, HuntStrategy } from '../../src/model/hunt-group.ts';
export type { ShortCodeFeature } from '../../src/model/short-code.ts';
export type { IvrAction, IvrMenuView as IvrMenu } from '../../src/model/ivr-menu.ts';
export type { ConferenceRoomView as ConferenceRoom } from '../../src/model/conference-room.ts';
export type { AudioFile, AudioKind } from '../../src/model/audio-file.ts';
export type {
  ActiveConference, Alarm, AlarmSeverity, CallStatus, ContactStatus, ExtensionState, ExtensionStatus, FeedMessage, ParkedCallView as ParkedCall,
  OverloadStatus, StatusSnapshotView as StatusSnapshot, TrunkStatus, UserActivity, WorkerStatus,
} from '../../src/model/status.ts';

export type { Ban } from '../../src/model/ban.ts';

import type { shortCodeViewSchema } from '../../src/model/short-code.ts';
export type ShortCode = z.output<typeof shortCodeViewSchema>;
