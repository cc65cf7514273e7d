// Patterns that administrators or peers supply as text.

/** The text is a JavaScript regular expression. */
export function compilesAsRegex(pattern: string): boolean {
  try {
    new RegExp(pattern);
    return true;
  } catch {
    return false;
  }
}
