// POST /api/v1/admin/documents/:id/payload: an operator's correction of a failed or dead document.
import type { Collection } from 'mongodb';
import { z } from 'zod';
import { MONGO_DEADLINES_MS, withinDeadline } from '../../../db/mongo.js';
import { oversizedDetail, oversizedPayload } from '../../../domain/envelope.js';
import { checkEnvelope } from '../../../http/envelope-check.js';
import { HttpProblem } from '../../../http/problem.js';
import type { RawTransaction, StatementFile } from '../../../raw-store/collections.js';
import { RAW_STATUSES } from '../../../raw-store/collections.js';
import { correctPayload } from '../../../raw-store/correct-payload.js';
import { tenantScopeOf } from '../../plugins/auth.js';
import { idempotencyHeaders } from '../../plugins/idempotency.js';
import { ROUTE_PROBLEMS } from '../../problem-cases.js';
import { type App, idParams, jsonObject } from './admin-route.js';

export function correctPayloadRoute(
  app: App,
  { raw, statements }: { raw: Collection<RawTransaction>; statements: Collection<StatementFile> },
): void {
  app.post(
    '/api/v1/admin/documents/:id/payload',
    {
      onRequest: app.authorize('admin'),
      links: { 200: { getDocument: { operationId: 'getDocument', parameters: { id: '$response.body#/id' } } } },
      schema: {
        operationId: 'correctDocumentPayload',
        'x-problems': ROUTE_PROBLEMS.correctPayload,
        headers: idempotencyHeaders,
        summary: "Correct a failed or dead document's payload (the previous one is kept) and put it back in line",
        params: idParams,
        body: z.strictObject({ payload: jsonObject }),
        response: { 200: z.object({ id: z.string(), status: z.enum(RAW_STATUSES) }) },
      },
    },
    async (request) => {
      const keyId = request.principal.keyId;
      const { id } = request.params;
      const result = await withinDeadline(MONGO_DEADLINES_MS.board, (bound) =>
        correctPayload(
          raw,
          {
            tenantId: tenantScopeOf(request.principal),
            id,
            by: keyId,
            statements,
            // The corrected payload passes the same door as a new submission.
            prepare: ({ source, externalId }) => {
              const checked = checkEnvelope({ source, ...(externalId ? { externalId } : {}), payload: request.body.payload }, '');
              if ('problem' in checked)
                throw new HttpProblem(400, 'validation-error', checked.problem.detail, { errors: checked.problem.errors });
              const oversized = oversizedPayload(checked.envelope.payload);
              if (oversized !== undefined) throw new HttpProblem(413, 'document-too-large', oversizedDetail(oversized));
              return checked.envelope.payload;
            },
          },
          bound,
        ),
      );
      if (result.outcome === 'not-found') throw new HttpProblem(404, 'not-found', `No document ${id}.`);
      if (result.outcome === 'not-correctable') {
        throw new HttpProblem(409, 'not-correctable', `Only failed or dead documents can be corrected; this one is ${result.status}.`);
      }
      request.log.info(
        { audit: 'payload-corrected', tenantId: result.tenantId, keyId, rawId: id },
        'board: payload corrected and document replayed',
      );
      return { id, status: 'pending' as const };
    },
  );
}
