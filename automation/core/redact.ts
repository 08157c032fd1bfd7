/**
 * Secrets never reach logs, outputs or reports. Everything the CLI prints passes through {@link redact}.
 */

const URL_CREDENTIALS = /([a-z][a-z0-9+.-]*:\/\/)([^:@/\s]*)(?::([^@/\s]*))?@/gi;
const KEY_VALUE = /\b(password|passwd|pwd|secret|authorization|api[_-]?key)(["']?\s*[:=]\s*["']?)([^"'\s,;&}]+)/gi;
/**
 * `token` and `auth` are words of ordinary prose too ("drill token: PASSED", "auth: refused"): after them, only a
 * value that looks like a credential is scrubbed — one with a digit, or 20 characters or more.
 */
const PROSE_KEY_VALUE = /\b(token|auth)(["']?\s*[:=]\s*["']?)(?=[^"'\s,;&}]*\d|[^"'\s,;&}]{20})([^"'\s,;&}]+)/gi;

/** Extra literal values to scrub (for example bot tokens read from Secrets Manager). */
const registered = new Set<string>();

/** Register a secret value so that every later {@link redact} call removes it. Short values are ignored. */
export function registerSecret(value: string | undefined | null): void {
  if (value && value.length >= 6) registered.add(value);
}

/** Remove credentials from URLs, `key=value` secrets and every registered secret value. */
export function redact(text: string): string {
  let out = text.replace(URL_CREDENTIALS, (_m, scheme: string, user: string, pass: string | undefined) =>
    pass === undefined ? `${scheme}${user}@` : `${scheme}${user}:***@`,
  );
  out = out.replace(KEY_VALUE, (_m, key: string, sep: string) => `${key}${sep}***`);
  out = out.replace(PROSE_KEY_VALUE, (_m, key: string, sep: string) => `${key}${sep}***`);
  for (const s of registered) out = out.split(s).join('***');
  return out;
}

/** Deep-redact a JSON-able value (strings are redacted, structure kept). */
export function redactValue<T>(value: T): T {
  if (typeof value === 'string') return redact(value) as unknown as T;
  if (Array.isArray(value)) return value.map((v) => redactValue(v)) as unknown as T;
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) out[k] = redactValue(v);
    return out as T;
  }
  return value;
}

/** Register the password inside a URL so every later redact() scrubs it wherever it appears. */
export function registerUrlSecret(url: string | undefined): void {
  if (!url) return;
  try {
    const u = new URL(url);
    if (u.password) {
      registerSecret(decodeURIComponent(u.password));
      registerSecret(u.password);
    }
  } catch {
    /* not a URL: nothing to register */
  }
}
