// Key pairs and token forgery for the identity tests.
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import jwt from 'jsonwebtoken';

export type KeyPair = { privateKey: KeyObject; publicKey: KeyObject; publicPem: string };

export function rsaKeyPair(): KeyPair {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { privateKey, publicKey, publicPem: publicKey.export({ type: 'spki', format: 'pem' }).toString() };
}

export function ecKeyPair(): KeyPair {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  return { privateKey, publicKey, publicPem: publicKey.export({ type: 'spki', format: 'pem' }).toString() };
}

export type Claims = Record<string, unknown>;

/** Signs claims as given: undefined claims are left out, and no `iat` is added when there is none. */
export function sign(
  claims: Claims,
  key: KeyObject | string,
  header: { alg: string; kid?: string; extra?: Record<string, unknown> },
): string {
  const payload = Object.fromEntries(Object.entries(claims).filter(([, v]) => v !== undefined));
  return jwt.sign(payload, key as never, {
    algorithm: header.alg as jwt.Algorithm,
    ...(header.kid ? { keyid: header.kid } : {}),
    ...(header.extra ? { header: { alg: header.alg, ...header.extra } } : {}),
    noTimestamp: payload.iat === undefined,
  });
}

/** An unsigned token (`alg: none`). */
export function unsigned(claims: Claims, kid?: string): string {
  const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
  return `${b64({ alg: 'none', typ: 'JWT', ...(kid ? { kid } : {}) })}.${b64(claims)}.`;
}

export const nowSeconds = () => Math.floor(Date.now() / 1000);
