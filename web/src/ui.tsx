// Small building blocks every page uses: labelled fields that show the
// server's message for that field, notices read out by screen readers, and
// a page title that takes the focus when the page changes.
import type { ComponentChildren } from 'preact';
import { createContext } from 'preact';
import { useContext, useEffect, useRef } from 'preact/hooks';
import type { Api, ApiError } from './api.ts';
import type { Session } from './types.ts';

export interface AppContext {
  api: Api;
  session: Session;
  /** Role admin: may change users, trunks, settings. */
  canWrite: boolean;
  /** Role security-admin: password policy. */
  canSecurity: boolean;
}

export const App = createContext<AppContext | null>(null);

export function useApp(): AppContext {
  const ctx = useContext(App);
  if (!ctx) throw new Error('useApp outside the app');
  return ctx;
}

/** The page's h1; focused on arrival so keyboard and screen-reader users start at the top of the new page. */
export function PageTitle({ children }: { children: ComponentChildren }) {
  const ref = useRef<HTMLHeadingElement>(null);
  useEffect(() => ref.current?.focus(), []);
  return <h1 ref={ref} tabIndex={-1}>{children}</h1>;
}

export function Notice({ kind, children }: { kind: 'error' | 'ok' | 'info'; children: ComponentChildren }) {
  if (children === null || children === undefined || children === '' || children === false) return null;
  return (
    <p class={`notice notice-${kind}`} role={kind === 'error' ? 'alert' : 'status'}>
      {children}
    </p>
  );
}

interface FieldBase {
  id: string;
  label: string;
  hint?: string;
  error?: string;
  disabled?: boolean;
  /** Marked with * beside the label (see RequiredNote) and announced as required. */
  required?: boolean;
}

/**
 * A field's label; a required field's gets a * from the stylesheet, kept out
 * of the label's name (the control itself says "required" to screen readers).
 */
function Label({ id, label, required }: { id: string; label: string; required?: boolean }) {
  return <label for={id} class={required ? 'required' : undefined}>{label}</label>;
}

/** The key to the * of required fields, once per form. */
export function RequiredNote() {
  return <p class="hint">Fields marked <span class="req">*</span> are required.</p>;
}

function described(id: string, hint?: string, error?: string): string | undefined {
  const ids = [hint ? `${id}-hint` : '', error ? `${id}-error` : ''].filter(Boolean).join(' ');
  return ids || undefined;
}

function Extra({ id, hint, error }: { id: string; hint?: string; error?: string }) {
  return (
    <>
      {hint && <span class="hint" id={`${id}-hint`}>{hint}</span>}
      {error && <span class="field-error" id={`${id}-error`}>{error}</span>}
    </>
  );
}

export function TextField(p: FieldBase & {
  value: string;
  onInput: (v: string) => void;
  type?: 'text' | 'password' | 'number' | 'search';
  autoComplete?: string;
  placeholder?: string;
  inputMode?: 'numeric' | 'text';
}) {
  return (
    <div class={`field${p.error ? ' has-error' : ''}`}>
      <Label id={p.id} label={p.label} required={p.required} />
      <input
        id={p.id}
        name={p.id}
        // Preact's input typing splits by type; the props here suit every type listed.
        type={(p.type ?? 'text') as 'text'}
        value={p.value}
        required={p.required}
        aria-required={p.required ? 'true' : undefined}
        disabled={p.disabled}
        autoComplete={p.autoComplete ?? 'off'}
        placeholder={p.placeholder}
        inputMode={p.inputMode}
        aria-invalid={p.error ? 'true' : undefined}
        aria-describedby={described(p.id, p.hint, p.error)}
        onInput={(e) => p.onInput((e.currentTarget as HTMLInputElement).value)}
      />
      <Extra id={p.id} hint={p.hint} error={p.error} />
    </div>
  );
}

/** Several lines of text (pasted files); `rows` tall. */
export function TextAreaField(p: FieldBase & { value: string; onInput: (v: string) => void; rows?: number; placeholder?: string }) {
  return (
    <div class={`field field-wide${p.error ? ' has-error' : ''}`}>
      <Label id={p.id} label={p.label} required={p.required} />
      <textarea
        id={p.id}
        name={p.id}
        rows={p.rows ?? 8}
        value={p.value}
        required={p.required}
        aria-required={p.required ? 'true' : undefined}
        disabled={p.disabled}
        placeholder={p.placeholder}
        spellcheck={false}
        aria-invalid={p.error ? 'true' : undefined}
        aria-describedby={described(p.id, p.hint, p.error)}
        onInput={(e) => p.onInput((e.currentTarget as HTMLTextAreaElement).value)}
      />
      <Extra id={p.id} hint={p.hint} error={p.error} />
    </div>
  );
}

export function SelectField<T extends string>(p: FieldBase & {
  value: T;
  options: readonly { value: T; label: string }[];
  onChange: (v: T) => void;
}) {
  return (
    <div class={`field${p.error ? ' has-error' : ''}`}>
      <Label id={p.id} label={p.label} required={p.required} />
      <select
        id={p.id}
        name={p.id}
        value={p.value}
        required={p.required}
        aria-required={p.required ? 'true' : undefined}
        disabled={p.disabled}
        aria-invalid={p.error ? 'true' : undefined}
        aria-describedby={described(p.id, p.hint, p.error)}
        onChange={(e) => p.onChange((e.currentTarget as HTMLSelectElement).value as T)}
      >
        {p.options.map((o) => <option key={o.value} value={o.value}>{o.label}</option>)}
      </select>
      <Extra id={p.id} hint={p.hint} error={p.error} />
    </div>
  );
}

export function CheckField(p: FieldBase & { checked: boolean; onChange: (v: boolean) => void }) {
  return (
    <div class={`field field-check${p.error ? ' has-error' : ''}`}>
      <span class="check-line">
        <input
          id={p.id}
          name={p.id}
          type="checkbox"
          checked={p.checked}
          disabled={p.disabled}
          aria-invalid={p.error ? 'true' : undefined}
          aria-describedby={described(p.id, p.hint, p.error)}
          onChange={(e) => p.onChange((e.currentTarget as HTMLInputElement).checked)}
        />
        <label for={p.id}>{p.label}</label>
      </span>
      <Extra id={p.id} hint={p.hint} error={p.error} />
    </div>
  );
}

export function Fieldset({ legend, children }: { legend: string; children: ComponentChildren }) {
  return (
    <fieldset>
      <legend>{legend}</legend>
      <div class="grid">{children}</div>
    </fieldset>
  );
}

/** A sortable column header: a real button, with aria-sort on the cell. */
export function SortHeader(p: { label: string; field: string; sort: string; onSort: (s: string) => void }) {
  const active = p.sort === p.field || p.sort === `-${p.field}`;
  const desc = p.sort === `-${p.field}`;
  const ariaSort: 'ascending' | 'descending' | 'none' = active ? (desc ? 'descending' : 'ascending') : 'none';
  return (
    <th scope="col" aria-sort={ariaSort}>
      <button type="button" class="sort" onClick={() => p.onSort(active && !desc ? `-${p.field}` : p.field)}>
        {p.label}
        <span aria-hidden="true">{active ? (desc ? ' ▼' : ' ▲') : ''}</span>
      </button>
    </th>
  );
}

export function Loading() {
  return <p class="muted" role="status">Loading…</p>;
}

/** A field's label as shown: for the error summary. */
function labelText(id: string): string | undefined {
  const label = document.querySelector(`label[for="${CSS.escape(id)}"]`);
  return label?.textContent?.trim() || undefined;
}

/**
 * Every problem the server found with a form, at its top: each names its
 * field by its label and links to it (the field shows the message too). The
 * server reports every issue of a request at once (src/api/route.ts), so
 * one save shows them all. `idOf` maps an issue path to its control's id.
 */
export function ErrorSummary({ err, idOf }: { err: ApiError | null; idOf: (path: string) => string }) {
  if (!err || err.issues.length === 0) return null;
  const n = err.issues.length;
  // In the order of the form, as the person reads it; issues without a control last.
  const at = (path: string) => document.getElementById(idOf(path));
  const issues = [...err.issues].sort((a, b) => {
    const x = at(a.path);
    const y = at(b.path);
    if (!x || !y) return x ? -1 : y ? 1 : 0;
    return x === y ? 0 : x.compareDocumentPosition(y) & Node.DOCUMENT_POSITION_FOLLOWING ? -1 : 1;
  });
  return (
    <div class="error-summary" role="alert">
      <h2>{n === 1 ? 'One thing to correct before saving' : `${n} things to correct before saving`}</h2>
      <ul>
        {issues.map((i, k) => {
          const id = idOf(i.path);
          const control = document.getElementById(id);
          const message = i.message.startsWith(`${i.path}: `) ? i.message.slice(i.path.length + 2) : i.message;
          const label = (control && labelText(id)) ?? i.path;
          return (
            <li key={k}>
              {control
                ? <a href={`#${id}`} onClick={(e) => { e.preventDefault(); control.focus(); }}>{label}</a>
                : <strong>{label}</strong>}
              {`: ${message}`}
            </li>
          );
        })}
      </ul>
    </div>
  );
}

/** The end of an edit form: why the server refused it, and (administrators) save and cancel. */
export function FormEnd(p: { err: ApiError | null; save: string; cancelHref: string; busy?: boolean }) {
  const { canWrite } = useApp();
  return (
    <>
      <Notice kind="error">{p.err && (p.err.issues.length === 0 ? p.err.message : 'Not saved: correct the fields listed at the top.')}</Notice>
      {canWrite && (
        <div class="actions">
          <SubmitButton busy={p.busy ?? false} label={p.save} />
          <a class="button" href={p.cancelHref}>Cancel</a>
        </div>
      )}
    </>
  );
}

/**
 * A form's save button. While saving it is only marked busy, never disabled:
 * a disabled button drops the keyboard focus to the page, and the person
 * who pressed it would have to find their place again.
 */
export function SubmitButton({ busy, label, busyLabel = 'Saving…' }: { busy: boolean; label: string; busyLabel?: string }) {
  return (
    <button type="submit" class="primary" aria-disabled={busy ? 'true' : undefined}
      onClick={(e) => { if (busy) e.preventDefault(); }}>
      {busy ? busyLabel : label}
    </button>
  );
}
