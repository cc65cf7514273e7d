// Schemas of the live status answers, for the OpenAPI document: the status
// model's (src/model/status.ts), plus the query of the Users page's activity.
import { z } from 'zod';
import type { StatusSnapshot } from '../pbx/status/status.ts';
import { userActivitySchema as activity, type StatusSnapshotView } from '../model/status.ts';

export {
  alarmListSchema, alarmSchema, callStatusSchema, extensionStatusSchema, statusSnapshotSchema,
} from '../model/status.ts';

// What the status service builds must be what the model documents (checked by the compiler).
const conforms = (s: StatusSnapshot): StatusSnapshotView => s;
void conforms;

export const userActivityQuery = z
  .object({
    extensions: z
      .string()
      .max(20_000)
      .transform((s) => [...new Set(s.split(',').map((x) => x.trim()).filter((x) => x !== ''))])
      .pipe(z.array(z.string().max(64)).min(1).max(500))
      .describe('comma-separated extensions, at most 500'),
  })
  .strict();

export const userActivitySchema = z.object({ items: z.array(activity) });
