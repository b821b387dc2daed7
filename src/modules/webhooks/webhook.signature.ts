// Webhook signatures: `X-Erin-Signature: t=<unix seconds>,v1=<hex>[,v1=<hex>]`, each v1
// an HMAC-SHA256 with an endpoint secret over `<t>.<raw body>`. During a secret rotation
// there is one v1 per valid secret. Receivers recompute it, compare in constant time and
// refuse a timestamp outside their replay window (examples/verify-webhook.ts).
import { createHmac, randomBytes } from 'node:crypto';

export const SIGNATURE_HEADER = 'x-erin-signature';
export const DELIVERY_HEADER = 'x-erin-delivery';
export const EVENT_HEADER = 'x-erin-event';

export function newWebhookSecret(): string {
  return `whsec_${randomBytes(32).toString('base64url')}`;
}

export function signatureOf(secret: string, timestamp: number, body: string): string {
  return createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex');
}

export function signatureHeader(secrets: string[], timestamp: number, body: string): string {
  return [`t=${timestamp}`, ...secrets.map((s) => `v1=${signatureOf(s, timestamp, body)}`)].join(',');
}
