// Names for the shapes the client takes and returns, all read from the generated openapi.d.ts, so a change
// to the API's schemas changes them (and fails the type check where the client no longer fits).
import type { paths } from './openapi.js';

type Json<T> = T extends { content: { 'application/json': infer B } } ? B : never;
type Query<T> = T extends { parameters: { query?: infer Q } } ? NonNullable<Q> : never;

type Transactions = paths['/api/v1/transactions'];
type Endpoints = paths['/api/v1/webhook-endpoints'];
type Endpoint = paths['/api/v1/webhook-endpoints/{id}'];

/** What POST /api/v1/transactions takes: a source and its payload. */
export type Envelope = Json<Transactions['post']['requestBody']>;
export type Accepted = Json<Transactions['post']['responses'][202]>;
/** The 207 of POST /api/v1/transactions/batch: a result per item, in the items' order. */
export type BatchResponse = Json<paths['/api/v1/transactions/batch']['post']['responses'][207]>;
export type BatchItemResult = BatchResponse['results'][number];
export type TransactionStatus = Json<paths['/api/v1/transactions/{id}']['get']['responses'][200]>;
export type TransactionRow = Json<Transactions['get']['responses'][200]>['data'][number];
export type TransactionFilters = Omit<Query<Transactions['get']>, 'starting_after'> & { startingAfter?: string };

export type StatementAccepted = Json<paths['/api/v1/statements']['post']['responses'][202]>;
export type Statement = Json<paths['/api/v1/statements/{id}']['get']['responses'][200]>;
export type StatementQuery = { limit?: number; startingAfter?: number };

export type Event = Json<paths['/api/v1/events']['get']['responses'][200]>['data'][number];
export type EventType = Event['type'];

export type WebhookEndpoint = Json<Endpoints['get']['responses'][200]>['data'][number];
export type NewWebhookEndpoint = Json<Endpoints['post']['requestBody']>;
export type CreatedWebhookEndpoint = Json<Endpoints['post']['responses'][201]>;
export type WebhookEndpointChanges = Omit<Json<Endpoint['patch']['requestBody']>, 'rotateSecret'>;
export type UpdatedWebhookEndpoint = Json<Endpoint['patch']['responses'][200]>;
export type Delivery = Json<paths['/api/v1/webhook-endpoints/{id}/deliveries']['get']['responses'][200]>['data'][number];
export type Resend = Json<paths['/api/v1/webhook-endpoints/{id}/resends']['post']['responses'][202]>;
