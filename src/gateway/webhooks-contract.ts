// The OpenAPI 3.1 `webhooks` of the contract: what Prismo POSTs to a webhook endpoint, one operation per event
// type, from the same zod schemas GET /api/v1/events answers with (docs/api.md, "Webhooks").
import { z } from 'zod';
import { EVENT_TYPES } from '../domain/events.js';
import { EVENT_DATA_SCHEMAS } from './routes/events.js';

type Json = Record<string, unknown>;

const SIGNATURE_PATTERN = '^t=[0-9]+(,v1=[0-9a-f]{64}){1,2}$';

/** The JSON Schema of one type's payload, without the `$schema` line (the document says 2020-12 already). */
function payloadSchema(type: (typeof EVENT_TYPES)[number]): Json {
  const schema = z.object({
    id: z
      .string()
      .regex(/^evt_[0-9a-f]{24}$/)
      .describe('The event id: the same at every delivery of the event (de-duplicate by it)'),
    type: z.literal(type),
    created: z.iso.datetime().describe('When it was recorded, in the transaction that committed it'),
    documentId: z.string().describe('What it is about: the raw document, the statement upload or the webhook endpoint'),
    data: EVENT_DATA_SCHEMAS[type],
  });
  const { $schema: _, ...json } = z.toJSONSchema(schema, { io: 'output', unrepresentable: 'any' }) as Json;
  return json;
}

export function webhooksContract(): Json {
  return Object.fromEntries(
    EVENT_TYPES.map((type) => [
      type,
      {
        post: {
          summary: `The ${type} event, POSTed to each enabled endpoint that lists it`,
          description:
            'At least once, in the feed order of each endpoint, one at a time (up to its maxInFlight at once, then not in order); retried with backoff (1 s doubling to 1 h, ±50 %) ' +
            'until WEBHOOK_DISABLE_AFTER_HOURS of failures disable the endpoint. Verify Prismo-Signature before trusting the body.',
          parameters: [
            {
              in: 'header',
              name: 'Prismo-Signature',
              required: true,
              description:
                't: Unix seconds when signed; v1: hex HMAC-SHA256 of "t.body" with the endpoint secret (two v1 during a rotation). ' +
                'Refuse a t older than your replay tolerance.',
              schema: { type: 'string', pattern: SIGNATURE_PATTERN },
            },
          ],
          requestBody: { required: true, content: { 'application/json': { schema: payloadSchema(type) } } },
          responses: {
            '2XX': { description: 'Delivered: the event is not sent again (a resend aside)' },
            default: { description: `Anything else, a redirect, or no answer within WEBHOOK_TIMEOUT_MS: a failed attempt, retried` },
          },
          security: [],
        },
      },
    ]),
  );
}
