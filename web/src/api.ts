// The REST API from the page: same-origin fetch with the session cookie, the
// CSRF token on every request that changes something, and one error type that
// keeps the server's field issues so forms can show them beside the field.

export interface Issue {
  path: string;
  message: string;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly issues: Issue[] = [],
  ) {
    super(message);
  }

  /** The issue message for one field (dotted path), if the server named it. */
  field(path: string): string | undefined {
    // The store names the field in its message ("code: ..."); beside the field that is said already.
    const all = this.issues.filter((i) => i.path === path).map((i) => (i.message.startsWith(`${path}: `) ? i.message.slice(path.length + 2) : i.message));
    return all.length > 0 ? all.join('; ') : undefined;
  }
}

export interface RequestOptions {
  /** Raw body with its content type (CSV import, WAV upload). */
  raw?: { text: string | Blob; type: string };
  /** A page's own polling, not the administrator's doing: it does not renew the session's idle time. */
  background?: boolean;
}

/** Called when the session is gone or must change its password first; the app shows the right page. */
export type SessionProblem = 'unauthenticated' | 'password-change-required';

export class Api {
  csrf: string | null = null;

  constructor(private readonly onSessionProblem: (p: SessionProblem, message: string) => void) {}

  async request<T>(method: string, path: string, body?: unknown, opts: RequestOptions = {}): Promise<T> {
    const headers: Record<string, string> = { accept: 'application/json' };
    let payload: string | Blob | undefined;
    if (opts.raw) {
      payload = opts.raw.text;
      headers['content-type'] = opts.raw.type;
    } else if (body !== undefined) {
      payload = JSON.stringify(body);
      headers['content-type'] = 'application/json';
    }
    if (method !== 'GET' && this.csrf) headers['x-csrf-token'] = this.csrf;
    if (opts.background) headers['x-switchboard-background'] = '1';
    let res: Response;
    try {
      res = await fetch(path, { method, headers, body: payload, credentials: 'same-origin', cache: 'no-store' });
    } catch {
      throw new ApiError(0, 'network', 'The server cannot be reached. Check the connection and try again.');
    }
    const text = await res.text();
    let data: unknown;
    try {
      data = text ? JSON.parse(text) : undefined;
    } catch {
      data = text;
    }
    if (res.ok) return data as T;
    const e = (data ?? {}) as { error?: string; message?: string; issues?: Issue[] };
    const err = new ApiError(res.status, e.error ?? 'error', e.message ?? `${res.status} ${res.statusText}`, e.issues ?? []);
    // Login itself answers 401 for a wrong password: that is the form's business, not a lost session.
    if (path !== '/api/session' || method !== 'POST') {
      if (err.status === 401) this.onSessionProblem('unauthenticated', err.message);
      else if (err.code === 'password-change-required') this.onSessionProblem('password-change-required', err.message);
    }
    throw err;
  }

  get<T>(path: string, opts?: RequestOptions): Promise<T> {
    return this.request<T>('GET', path, undefined, opts);
  }

  post<T>(path: string, body?: unknown, opts?: RequestOptions): Promise<T> {
    return this.request<T>('POST', path, body, opts);
  }

  put<T>(path: string, body?: unknown, opts?: RequestOptions): Promise<T> {
    return this.request<T>('PUT', path, body, opts);
  }

  patch<T>(path: string, body?: unknown): Promise<T> {
    return this.request<T>('PATCH', path, body);
  }

  delete<T = void>(path: string): Promise<T> {
    return this.request<T>('DELETE', path);
  }
}

export function query(params: Record<string, string | number | boolean | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== '') q.set(k, String(v));
  const s = q.toString();
  return s ? `?${s}` : '';
}

export function describeError(err: unknown): string {
  if (err instanceof ApiError) return err.message;
  return err instanceof Error ? err.message : String(err);
}

/** Any failure as an ApiError, so forms can ask it for field messages. */
export function asApiError(err: unknown): ApiError {
  return err instanceof ApiError ? err : new ApiError(0, 'error', describeError(err));
}
