// Verifying an ERIN Exchange webhook in a receiver. Use the raw request body exactly as
// received (before any JSON parsing), the secret you got from registerWebhook (or
// rotateWebhookSecret), and refuse what is older than your replay window. Then dedupe by
// the delivery id: the gateway delivers at least once.
import { createHmac, timingSafeEqual } from 'node:crypto';

export const REPLAY_WINDOW_SECONDS = 300;

export function verifyErinSignature(options: {
  /** The endpoint's secret(s); pass the old one too while you roll a rotation out. */
  secrets: string[];
  /** The `X-Erin-Signature` header: `t=<unix seconds>,v1=<hex>[,v1=<hex>]`. */
  header: string | undefined;
  rawBody: string | Buffer;
  nowSeconds?: number;
  windowSeconds?: number;
}): boolean {
  const parts = (options.header ?? '').split(',').map((part) => part.trim().split('='));
  const timestamp = Number(parts.find(([key]) => key === 't')?.[1]);
  const signatures = parts.filter(([key, value]) => key === 'v1' && value).map(([, value]) => Buffer.from(value!, 'hex'));
  const now = options.nowSeconds ?? Math.floor(Date.now() / 1000);
  if (!Number.isInteger(timestamp) || Math.abs(now - timestamp) > (options.windowSeconds ?? REPLAY_WINDOW_SECONDS)) return false;
  const signed = Buffer.concat([Buffer.from(`${timestamp}.`), Buffer.from(options.rawBody)]);
  return options.secrets.some((secret) => {
    const expected = createHmac('sha256', secret).update(signed).digest();
    return signatures.some((given) => given.length === expected.length && timingSafeEqual(given, expected));
  });
}

// A receiver with express, storing each delivery once:
//
//   app.post('/erin-webhook', express.raw({ type: 'application/json' }), async (req, res) => {
//     if (!verifyErinSignature({ secrets: [process.env.ERIN_WEBHOOK_SECRET!], header: req.header('x-erin-signature'), rawBody: req.body }))
//       return res.sendStatus(401);
//     const delivery = JSON.parse(req.body.toString('utf8'));
//     if (await alreadyProcessed(delivery.deliveryId)) return res.sendStatus(200);
//     await enqueue(delivery.change);            // then fetch the state with `changes(after: …)` or `case(id:)`
//     await markProcessed(delivery.deliveryId);
//     res.sendStatus(200);
//   });
