// Routes anyone may fetch: the root CA for phones to trust (SPEC 4.3: PEM for
// most devices, DER for one-X Android) and the API document itself.
import { z } from 'zod';
import type { ApiContext } from '../context.ts';
import { openApiDocument } from '../openapi.ts';
import type { RouteTable } from '../route.ts';
import { VERSION } from '../../lib/version.ts';

export function publicRoutes(t: RouteTable, ctx: ApiContext): void {
  t.add({
    method: 'GET', url: '/ca.pem', tag: 'certificates', access: 'public',
    summary: 'Root CA certificate (PEM)',
    response: { description: 'the certificate', contentTypes: ['application/x-pem-file'] },
    handler: (req) => {
      void req.reply.type('application/x-pem-file').header('content-disposition', 'attachment; filename="switchboard-ca.pem"');
      return ctx.ca.pem;
    },
  });

  t.add({
    method: 'GET', url: '/ca.der', tag: 'certificates', access: 'public',
    summary: 'Root CA certificate (DER)',
    response: { description: 'the certificate', contentTypes: ['application/x-x509-ca-cert'] },
    handler: (req) => {
      void req.reply.type('application/x-x509-ca-cert').header('content-disposition', 'attachment; filename="switchboard-ca.crt"');
      return ctx.ca.der;
    },
  });

  let doc: string | undefined;
  t.add({
    method: 'GET', url: '/api/openapi.json', tag: 'meta', access: 'public',
    summary: 'This document (OpenAPI 3.1)',
    response: { description: 'the document', schema: z.record(z.string(), z.unknown()) },
    handler: (req) => {
      // Built on first use, when every route (including later ones) is in the table.
      doc ??= JSON.stringify(openApiDocument(t.routes, VERSION));
      void req.reply.type('application/json; charset=utf-8');
      return doc;
    },
  });
}
