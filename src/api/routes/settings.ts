// /api/settings (system settings: SIP and registrar ones applied at the next
// start, media ones on the running server at once) and /api/password-policy
// (administrator password rules, applied at once).
import { passwordPolicySchema } from '../../config/schema.ts';
import { audit, PASSWORD_POLICY_KEY, passwordPolicy, type ApiContext } from '../context.ts';
import { validationError } from '../errors.ts';
import type { RouteTable } from '../route.ts';
import {
  applyStoredSettings, flattenPut, invalidLiveValues, keyInfos, settingsProblems, settingsPutSchema, settingsResponseSchema,
  settingsView, storedSettings,
} from '../settings.ts';

export function settingsRoutes(t: RouteTable, ctx: ApiContext): void {
  const describe = (stored: Record<string, unknown>) => {
    const nextConfig = applyStoredSettings(ctx.baseConfig, stored, ctx.pinnedSettings, { live: true }).config;
    const next = settingsView(nextConfig);
    // Without a poller (a bare API server) nothing runs the media settings but what is saved.
    const running = settingsView(ctx.config, ctx.systemMedia?.current ?? nextConfig.media);
    const keys = keyInfos(next, running);
    return {
      settings: next, running, overrides: stored, pinned: [...ctx.pinnedSettings], keys,
      restartRequired: Object.values(keys).some((k) => k.restartRequired),
    };
  };

  t.add({
    method: 'GET', url: '/api/settings', tag: 'settings', access: 'read',
    summary: 'System settings',
    description: 'SIP domain, SIP listeners and registration expiry limits (as running, and as the next start will use them), ' +
      'and the system media settings (media security, SRTCP, direct media, DTMF, RFC 5939 capability negotiation, ' +
      'signalling transport), which the running server applies to its next call. keys says per setting when it applies.',
    response: { description: 'the settings', schema: settingsResponseSchema },
    handler: async () => describe(await storedSettings(ctx.admin.settings)),
  });

  t.add({
    method: 'PUT', url: '/api/settings', tag: 'settings', access: 'write',
    summary: 'Change system settings',
    description: 'Saved in the database. SIP and registrar settings apply at the next start (restartRequired says whether ' +
      'one is due); media settings apply to the next call without a restart. Send only what changes; null removes a ' +
      'saved value so the config file applies again.',
    body: settingsPutSchema,
    response: { description: 'the settings after the change', schema: settingsResponseSchema },
    errors: [400],
    handler: async (req) => {
      const before = await storedSettings(ctx.admin.settings);
      const changes = flattenPut(req.body);
      const after: Record<string, unknown> = { ...before };
      for (const [k, v] of Object.entries(changes)) {
        if (v === null) delete after[k];
        else after[k] = v;
      }
      // Checked on the whole result, pinned keys included, so a value saved now is valid whenever it applies.
      const problems = [...settingsProblems(applyStoredSettings(ctx.baseConfig, after).config), ...invalidLiveValues(after)];
      if (problems.length > 0) throw validationError(problems.map((p) => ({ ...p, in: 'body' as const })));
      await ctx.admin.settings.set(changes);
      await audit(ctx, req, 'settings', before, after);
      // The poller would see it within its period; reading now lets this answer show it running.
      await ctx.systemMedia?.poll();
      return describe(after);
    },
  });

  t.add({
    method: 'GET', url: '/api/password-policy', tag: 'admins', access: 'security',
    summary: 'Administrator password rules',
    response: { description: 'the policy in force', schema: passwordPolicySchema },
    handler: () => passwordPolicy(ctx),
  });

  t.add({
    method: 'PUT', url: '/api/password-policy', tag: 'admins', access: 'security',
    summary: 'Change the administrator password rules',
    description: 'Applies at once to new passwords; a shorter maxAgeDays can expire current ones.',
    body: passwordPolicySchema,
    response: { description: 'the policy in force', schema: passwordPolicySchema },
    errors: [400],
    handler: async (req) => {
      const before = await passwordPolicy(ctx);
      await ctx.admin.settings.set({ [PASSWORD_POLICY_KEY]: req.body });
      await audit(ctx, req, 'password-policy', before, req.body);
      return req.body;
    },
  });
}
