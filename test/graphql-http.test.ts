// Conformance with the GraphQL-over-HTTP specification: every MUST and SHOULD audit of
// the graphql-http package passes against the real gateway.
import { serverAudits } from 'graphql-http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway, type TestGateway } from './helpers/gateway.ts';

let gw: TestGateway;
beforeAll(async () => {
  gw = await startGateway({ seed: false });
});
afterAll(async () => {
  await gw?.close();
});

describe('GraphQL over HTTP', () => {
  const audits = serverAudits({ url: () => `${gw.url}/graphql` }).filter((a) => !a.name.startsWith('MAY'));

  it.each(audits.map((a) => [a.name, a] as const))('%s', async (_name, audit) => {
    const result = await audit.fn();
    expect(result.status === 'ok' ? 'ok' : `${result.status}: ${'reason' in result ? result.reason : ''}`).toBe('ok');
  });
});
