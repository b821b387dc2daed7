// Where webhooks may go: the checks at registration and the resolver guard at delivery.
import { describe, expect, it } from 'vitest';
import { classifyAddress, guardedLookup, urlProblem } from '../src/modules/webhooks/webhook.url.ts';

const production = { allowLoopback: false, allowPrivateNetworks: false };
const development = { allowLoopback: true, allowPrivateNetworks: false };

describe('webhook targets', () => {
  it('classifies loopback, private, link-local and public addresses, IPv4-mapped ones by their IPv4 address', () => {
    expect(classifyAddress('127.0.0.1')).toBe('loopback');
    expect(classifyAddress('::1')).toBe('loopback');
    expect(classifyAddress('10.20.30.40')).toBe('private');
    expect(classifyAddress('172.31.0.1')).toBe('private');
    expect(classifyAddress('fd00::1')).toBe('private');
    expect(classifyAddress('fec0::1')).toBe('private'); // site-local, deprecated but still routed inside some networks
    expect(classifyAddress('169.254.169.254')).toBe('forbidden');
    expect(classifyAddress('::ffff:169.254.169.254')).toBe('forbidden');
    expect(classifyAddress('0.0.0.0')).toBe('forbidden');
    expect(classifyAddress('93.184.216.34')).toBe('public');
  });

  it('judges IPv6 transition forms (NAT64, 6to4, IPv4-compatible, SIIT, Teredo, mapped in hex) by the IPv4 address they carry', () => {
    expect(classifyAddress('::ffff:a00:1')).toBe('private'); // ::ffff:10.0.0.1 as URLs write it
    expect(classifyAddress('::ffff:7f00:1')).toBe('loopback');
    expect(classifyAddress('64:ff9b::a00:1')).toBe('private'); // NAT64 of 10.0.0.1
    expect(classifyAddress('64:ff9b::a9fe:a9fe')).toBe('forbidden'); // NAT64 of the metadata address
    expect(classifyAddress('64:ff9b::7f00:1')).toBe('loopback');
    expect(classifyAddress('64:ff9b:1::a00:1')).not.toBe('public'); // local-use NAT64 prefix
    expect(classifyAddress('2002:a00:1::1')).toBe('private'); // 6to4 of 10.0.0.1
    expect(classifyAddress('2002:a9fe:a9fe::')).toBe('forbidden');
    expect(classifyAddress('2002:7f00:1::')).toBe('loopback');
    expect(classifyAddress('::a00:1')).toBe('private'); // IPv4-compatible ::10.0.0.1
    expect(classifyAddress('::7f00:1')).toBe('loopback');
    expect(classifyAddress('::ffff:0:a00:1')).toBe('private'); // IPv4-translated (SIIT)
    expect(classifyAddress('2001:0:4136:e378:8000:63bf:f5ff:fffe')).toBe('private'); // Teredo, client 10.0.0.1
    expect(classifyAddress('64:ff9b::5db8:d822')).toBe('public'); // NAT64 of a public address
    expect(classifyAddress('2606:4700::1111')).toBe('public');
    for (const host of ['[64:ff9b::a00:1]', '[2002:a9fe:a9fe::1]', '[::ffff:10.0.0.1]', '[::a00:1]']) {
      expect(urlProblem(`https://${host}/hook`, production), host).toMatch(/private|link-local|loopback/);
    }
  });

  it('loopback receivers only in development mode; private ones only when allowed; link-local never', () => {
    expect(urlProblem('http://127.0.0.1:8080/hook', development)).toBeUndefined();
    expect(urlProblem('http://localhost:8080/hook', development)).toBeUndefined();
    expect(urlProblem('http://127.0.0.1:8080/hook', production)).toMatch(/https/);
    expect(urlProblem('https://localhost/hook', production)).toMatch(/loopback/);
    // Spelled with the root's dot, or a name under localhost (RFC 6761): refused when registered, not only when sent.
    for (const host of ['localhost.', 'LOCALHOST', 'api.localhost', 'api.localhost.']) {
      expect(urlProblem(`https://${host}/hook`, production), host).toMatch(/loopback/);
    }
    expect(urlProblem('https://localhost.example.org/hook', production)).toBeUndefined();
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
