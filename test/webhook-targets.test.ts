// Where webhooks may go: the checks at registration and the resolver guard at delivery.
import { describe, expect, it } from 'vitest';
import { classifyAddress, guardedLookup, urlProblem } from '../src/modules/webhooks/webhook.url.ts';

const production = { production: true, allowPrivateNetworks: false };
const development = { production: false, allowPrivateNetworks: false };

describe('webhook targets', () => {
  it('classifies loopback, private, link-local and public addresses, IPv4-mapped ones by their IPv4 address', () => {
    expect(classifyAddress('127.0.0.1')).toBe('loopback');
    expect(classifyAddress('::1')).toBe('loopback');
    expect(classifyAddress('10.20.30.40')).toBe('private');
    expect(classifyAddress('172.31.0.1')).toBe('private');
    expect(classifyAddress('fd00::1')).toBe('private');
    expect(classifyAddress('169.254.169.254')).toBe('forbidden');
    expect(classifyAddress('::ffff:169.254.169.254')).toBe('forbidden');
    expect(classifyAddress('0.0.0.0')).toBe('forbidden');
    expect(classifyAddress('93.184.216.34')).toBe('public');
  });

  it('loopback receivers only outside production; private ones only when allowed; link-local never', () => {
    expect(urlProblem('http://127.0.0.1:8080/hook', development)).toBeUndefined();
    expect(urlProblem('http://localhost:8080/hook', development)).toBeUndefined();
    expect(urlProblem('http://127.0.0.1:8080/hook', production)).toMatch(/https/);
    expect(urlProblem('https://localhost/hook', production)).toMatch(/loopback/);
    expect(urlProblem('https://10.0.0.8/hook', production)).toMatch(/private/);
    expect(urlProblem('https://10.0.0.8/hook', { ...production, allowPrivateNetworks: true })).toBeUndefined();
    expect(urlProblem('https://169.254.169.254/hook', { ...production, allowPrivateNetworks: true })).toMatch(/link-local/);
    expect(urlProblem('https://receiver.example.org/hook#x', production)).toMatch(/fragment/);
  });

  it('refuses at connection time a name that resolves to an address it may not reach', async () => {
    const resolve = (policy: typeof production, host: string) =>
      new Promise<string>((ok, fail) =>
        guardedLookup(policy)(host, {}, (error, address) =>
          error ? fail(error) : ok(typeof address === 'string' ? address : (address[0]?.address ?? '')),
        ),
      );
    await expect(resolve(production, 'localhost')).rejects.toMatchObject({ code: 'ERR_WEBHOOK_TARGET_REFUSED' });
    await expect(resolve(development, 'localhost')).resolves.toMatch(/^(127\.0\.0\.1|::1)$/);
  });
});
