// What the admin routes share: the type they register on, their answers kept out of caches, and the
// schemas of a document as the board shows it.
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { tenantIdSchema, transactionIdSchema } from '../../../domain/ids.js';
import { rawStatusSchema } from '../../../raw-store/status-view.js';

export type App = Parameters<FastifyPluginAsyncZod>[0];

/** The API's answers are the tenant's data: never cached. */
export const noStore = async (_request: FastifyRequest, reply: FastifyReply) => {
  reply.header('cache-control', 'no-store');
};

export const tenantQuery = z.strictObject({ tenant: tenantIdSchema.optional() });
export const documentSummary = rawStatusSchema.extend({ tenantId: z.string() });
export const idParams = z.object({ id: transactionIdSchema });
export const jsonObject = z.record(z.string(), z.unknown());
