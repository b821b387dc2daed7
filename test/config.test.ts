import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.ts';

describe('configuration', () => {
  it('has working defaults for development', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({ env: 'development', port: 4000, mongodbUri: undefined, logLevel: 'info', dbName: 'erin' });
    expect(config.dataDir).toMatch(/data$/);
  });

  it('lists every problem at once', () => {
    let error: unknown;
    try {
      loadConfig({ PORT: 'eighty', MONGODB_URI: 'postgres://x', LOG_LEVEL: 'loud', ERIN_TOKEN_MAX_AGE: 'forever' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems.join('\n');
    for (const name of ['PORT', 'MONGODB_URI', 'LOG_LEVEL', 'ERIN_TOKEN_MAX_AGE']) expect(problems).toContain(name);
    expect((error as ConfigError).problems).toHaveLength(4);
  });

  it('treats an empty variable as unset', () => {
    expect(loadConfig({ MONGODB_URI: '', PORT: ' ', REDIS_URL: '' })).toMatchObject({
      mongodbUri: undefined,
      port: 4000,
      redisUrl: undefined,
    });
  });

  it('requires an encryption key and a trust file in production', () => {
    expect(() => loadConfig({ NODE_ENV: 'production' })).toThrowError(/ERIN_ENCRYPTION_KEY[\s\S]*ERIN_TRUST/);
  });

  it('refuses an encryption key that is not 32 bytes', () => {
    expect(() => loadConfig({ ERIN_ENCRYPTION_KEY: Buffer.alloc(16).toString('base64') })).toThrowError(/ERIN_ENCRYPTION_KEY/);
    expect(loadConfig({ ERIN_ENCRYPTION_KEY: Buffer.alloc(32, 7).toString('base64') }).encryptionKey).toHaveLength(32);
  });

  it('bounds how long the portal waits for a provider or a read: 30 s unless set, never under 1 s or over 5 min', () => {
    expect(loadConfig({}).portalTimeoutMs).toBe(30_000);
    expect(loadConfig({ ERIN_PORTAL_TIMEOUT: '2m' }).portalTimeoutMs).toBe(120_000);
    for (const value of ['500ms', '10m', 'never'])
      expect(() => loadConfig({ ERIN_PORTAL_TIMEOUT: value })).toThrowError(/ERIN_PORTAL_TIMEOUT/);
  });

  it('ends an idle portal session after 15 min unless set, never under 10 s or over 12 h', () => {
    expect(loadConfig({}).portalIdleMs).toBe(900_000);
    expect(loadConfig({ ERIN_PORTAL_IDLE: '5m' }).portalIdleMs).toBe(300_000);
    expect(loadConfig({ ERIN_PORTAL_IDLE: '12h' }).portalIdleMs).toBe(43_200_000);
    for (const value of ['0s', '9s', '13h', '1d', 'never', '-5m'])
      expect(() => loadConfig({ ERIN_PORTAL_IDLE: value })).toThrowError(/ERIN_PORTAL_IDLE/);
  });

  it('takes the database name from the MongoDB URI when it has one', async () => {
    const { databaseName } = await import('../src/config.ts');
    expect(databaseName(loadConfig({ MONGODB_URI: 'mongodb://db:27017/erin_prod?replicaSet=rs0' }))).toBe('erin_prod');
    expect(databaseName(loadConfig({ MONGODB_URI: 'mongodb://db:27017/' }))).toBe('erin');
  });

  it('names another database of a replica-set URI through the driver’s parser, hosts and options kept', async () => {
    const { withDatabase } = await import('../src/store/uri.ts');
    const uri = 'mongodb://u:p%40ss@h1:27017,h2:27017,h3:27017/?replicaSet=rs0&authSource=admin';
    expect(withDatabase(uri, 'erintest_abc123_t_0123')).toBe(
      'mongodb://u:p%40ss@h1:27017,h2:27017,h3:27017/erintest_abc123_t_0123?replicaSet=rs0&authSource=admin',
    );
    expect(withDatabase('mongodb://h1,h2/erin?replicaSet=rs0', 'other')).toBe('mongodb://h1,h2/other?replicaSet=rs0');
  });
});
