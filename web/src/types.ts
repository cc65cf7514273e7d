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

// Provisioning (src/api/routes/devices.ts, src/api/routes/provisioning.ts).
export type { DeviceFamily, DeviceView as Device } from '../../src/model/device.ts';
import type { DeviceFamily } from '../../src/model/device.ts';

/** GET /api/provisioning: where phones are pointed and the families there are files for. */
export interface ProvisioningInfo {
  running: boolean;
  url: string;
  httpUrl: string | null;
  families: {
    family: DeviceFamily;
    title: string;
    models: string[];
    maxLines: number;
    options: { name: string; values?: string[]; default?: string | number | boolean }[];
  }[];
}

/** GET /api/provisioning/summary: provisioning at a glance. */
export interface ProvisioningSummary {
  devices: number;
  fetchedLastDay: number;
  failing: number;
}

/** A device's provisioning credentials: in the answer that made them only. */
export interface DeviceSecrets {
  user: string;
  password: string;
  tokenUrl: string;
}

/** GET /api/devices/:mac/render */
export interface DeviceRender {
  files: { name: string; contentType: string; bytes: number; credentials: boolean }[];
  warnings: string[];
  refused: string | null;
}

/** GET /api/provisioning/requests: one request the provisioning server answered. */
export interface ProvisioningRequest {
  at: number;
  mac: string | null;
  method: string;
  file: string;
  status: number;
  result: string;
  source: string;
}
export type { DialPlanResult } from '../../src/provisioning/dialplan/index.ts';
