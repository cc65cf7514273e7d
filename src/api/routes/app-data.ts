// The media server's configuration routes: IVR menus, conference rooms, audio files and music on hold.
import type { ApiContext } from '../context.ts';
import type { RouteTable } from '../route.ts';
import { audioRoutes } from './audio.ts';
import { conferenceRoutes } from './conferences.ts';
import { ivrRoutes } from './ivr.ts';

export function appDataRoutes(t: RouteTable, ctx: ApiContext): void {
  ivrRoutes(t, ctx);
  conferenceRoutes(t, ctx);
  audioRoutes(t, ctx);
}
