// Prismo-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "t.body">, one v1 per valid secret (two during a
// rotation's overlap). docs/api.md has the receiver's check, with Node's crypto alone.
import { createHmac, randomBytes } from 'node:crypto';

export const newSecret = () => `whsec_${randomBytes(24).toString('base64url')}`;

export function signatureHeader(secrets: string[], timestamp: number, body: string): string {
  const signed = `${timestamp}.${body}`;
  return [`t=${timestamp}`, ...secrets.map((secret) => `v1=${createHmac('sha256', secret).update(signed).digest('hex')}`)].join(',');
}
