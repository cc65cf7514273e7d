// Hash routes (#/users/1001): the server serves one page at / and needs no
// fallback for deep links, and the back button works.
import { useEffect, useState } from 'preact/hooks';

export type Route = string[];

function current(): Route {
  const h = window.location.hash.replace(/^#\/?/, '');
  return h.split('/').filter((p) => p !== '').map((p) => {
    try {
      return decodeURIComponent(p);
    } catch {
      return p;
    }
  });
}

export function useRoute(): Route {
  const [route, setRoute] = useState<Route>(current);
  useEffect(() => {
    const on = () => setRoute(current());
    window.addEventListener('hashchange', on);
    return () => window.removeEventListener('hashchange', on);
  }, []);
  return route;
}

export function href(...parts: string[]): string {
  return '#/' + parts.map(encodeURIComponent).join('/');
}

export function navigate(...parts: string[]): void {
  window.location.hash = href(...parts).slice(1);
}
