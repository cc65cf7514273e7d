// The state of a page that lists one kind of resource and edits it in place
// (hunt groups, short codes): the list as last read, the page's notices, and
// the two ways a change ends — back to the list after a form, or a reload
// after an action on a row.
import type { ComponentChildren } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { describeError } from './api.ts';
import { href, navigate } from './router.ts';
import { Loading, Notice, PageTitle, useApp } from './ui.tsx';

export function useResourcePage<T>(path: string, section: string) {
  const { api } = useApp();
  const [items, setItems] = useState<T[] | null>(null);
  const [error, setError] = useState('');
  const [message, setMessage] = useState('');
  const [reload, setReload] = useState(0);
  useEffect(() => {
    api.get<{ items: T[] }>(path).then((r) => setItems(r.items), (e) => setError(describeError(e)));
  }, [reload]);
  const refresh = () => setReload((n) => n + 1);
  return {
    items, setItems, error, message, setMessage,
    /** A form saved: say so, reload, and show the list. */
    done(msg: string): void {
      setMessage(msg);
      setError('');
      refresh();
      navigate(section);
    },
    /** An action on a row: say so and reload, or show why it failed. */
    async act(what: () => Promise<unknown>, msg: string): Promise<void> {
      setError('');
      try {
        await what();
        setMessage(msg);
        refresh();
      } catch (e) {
        setError(describeError(e));
      }
    },
    fail(e: unknown): void {
      setError(describeError(e));
    },
  };
}

/**
 * Title, the add button (administrators), the notices and, when the address
 * names one (#/section/KEY or #/section/new), the editor above the list.
 */
export function ResourceHead(p: {
  title: string; section: string; noun: string; edit: string | undefined; loaded: boolean; found: boolean;
  message: string; error: string; children: ComponentChildren;
}) {
  const { canWrite } = useApp();
  return (
    <>
      <div class="page-head">
        <PageTitle>{p.title}</PageTitle>
        {canWrite && p.edit === undefined && <a class="button primary" href={href(p.section, 'new')}>Add {p.noun}</a>}
      </div>
      {!canWrite && <Notice kind="info">Your role can read {p.title.toLowerCase()} but not change them.</Notice>}
      <Notice kind="ok">{p.message}</Notice>
      <Notice kind="error">{p.error}</Notice>
      {p.edit !== undefined && (!p.loaded ? <Loading /> : !p.found ? <Notice kind="error">No {p.noun} {p.edit}.</Notice> : p.children)}
    </>
  );
}
