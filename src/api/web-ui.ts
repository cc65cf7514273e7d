// Serves the built web UI (web/dist, made by `npm run build:web`) from the
// management server: the page at / and its scripts and styles under /assets/.
// The file list is read once at start; only those files are ever opened, so
// no request path reaches the file system.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import { ApiError } from './errors.ts';
import type { ExtraRoutes } from './http-server.ts';
import type { RouteTable } from './route.ts';

export const DEFAULT_WEB_ROOT = fileURLToPath(new URL('../../web/dist/', import.meta.url));

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
};

// Everything the page needs comes from this server; the WebSocket is same-origin ('self').
const CSP = [
  "default-src 'self'", "script-src 'self'", "style-src 'self'", "img-src 'self' data:", "connect-src 'self'",
  "font-src 'self'", "object-src 'none'", "base-uri 'none'", "form-action 'self'", "frame-ancestors 'none'",
].join('; ');

const NOT_BUILT = '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Switchboard</title></head>' +
  '<body><h1>Switchboard</h1><p>The web UI is not built. Run <code>npm run build:web</code> and restart the ' +
  'server. The REST API is at <a href="/api/openapi.json">/api/openapi.json</a>.</p></body></html>';

/** Relative paths (with '/') of the files under dir/assets, at most a few levels and files deep. */
function listAssets(dir: string): string[] {
  const out: string[] = [];
  const walk = (rel: string, depth: number) => {
    if (depth > 4 || out.length > 2000) return;
    for (const e of readdirSync(path.join(dir, rel), { withFileTypes: true })) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) walk(r, depth + 1);
      else if (e.isFile() && TYPES[path.extname(e.name)]) out.push(r);
    }
  };
  if (existsSync(path.join(dir, 'assets'))) walk('assets', 0);
  return out;
}

export function webUiRoutes(root: string = DEFAULT_WEB_ROOT): ExtraRoutes {
  return (_app: FastifyInstance, t: RouteTable) => {
    const index = path.join(root, 'index.html');
    const built = existsSync(index) && statSync(index).isFile();
    const assets = new Set(built ? listAssets(root) : []);

    t.add({
      method: 'GET', url: '/', tag: 'web', access: 'public',
      summary: 'The management web UI',
      response: { description: 'the page (HTML)', contentTypes: ['text/html'] },
      handler: (req) => {
        void req.reply.type('text/html; charset=utf-8').header('cache-control', 'no-cache').header('content-security-policy', CSP);
        if (!built) return NOT_BUILT;
        // Read per request: a rebuilt UI shows without a restart as long as its asset names still exist.
        return readFileSync(index);
      },
    });

    t.add({
      method: 'GET', url: '/assets/*', tag: 'web', access: 'public',
      summary: 'Scripts and styles of the web UI',
      description: 'File names carry a content hash, so they are cached for a year.',
      response: { description: 'the file', contentTypes: ['text/javascript', 'text/css'] },
      errors: [404],
      handler: (req) => {
        const rel = `assets/${(req.raw.params as Record<string, string>)['*'] ?? ''}`;
        if (!assets.has(rel)) throw new ApiError(404, 'not-found', `no file ${rel}`);
        void req.reply.type(TYPES[path.extname(rel)]!).header('cache-control', 'public, max-age=31536000, immutable');
        return readFileSync(path.join(root, rel));
      },
    });
  };
}
