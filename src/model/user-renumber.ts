// What a renumbering does to the auth user, in one sentence for the API, the
// CLI and the web UI: the store moves an auth user that equalled the old
// extension (it was the default) and keeps any other (someone chose it, and
// the phone is configured with it).

/** The sentence for a change of extension from `before` to `after`; null when the extension stayed. */
export function renumberNote(
  before: { extension: string; authUser: string },
  after: { extension: string; authUser: string },
): string | null {
  if (before.extension === after.extension) return null;
  if (after.authUser === after.extension && before.authUser === before.extension) {
    return `extension ${before.extension} is now ${after.extension}; the auth user followed it (was ${before.authUser}, now ${after.authUser}): reconfigure the phone`;
  }
  if (after.authUser === before.authUser) {
    return `extension ${before.extension} is now ${after.extension}; the auth user stays ${after.authUser}`;
  }
  return `extension ${before.extension} is now ${after.extension}; the auth user is now ${after.authUser} (was ${before.authUser})`;
}

/** Before saving: what the form's new extension will do to the auth user (null: nothing to say). */
export function renumberPreview(current: { extension: string; authUser: string }, newExtension: string, newAuthUser?: string): string | null {
  if (newExtension === '' || newExtension === current.extension) return null;
  if (newAuthUser !== undefined && newAuthUser !== current.authUser) return null;
  return current.authUser === current.extension
    ? `The auth user ${current.authUser} follows the new extension: it becomes ${newExtension}, and the phone must log in with that.`
    : `The auth user stays ${current.authUser}; the phone keeps logging in with it.`;
}
