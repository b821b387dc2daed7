// A graphql-ws client for tests: real WebSocket, real protocol, against a test gateway.
import type { ExecutionResult } from 'graphql';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import type { TestGateway } from './gateway.ts';

export type Received = { data?: Record<string, unknown> | null; errors?: { message: string; extensions?: { code?: string } }[] };

export type Subscription = {
  received: Received[];
  /** Errors that ended the subscription (graphql-ws `error` messages). */
  failed: { message: string; extensions?: { code?: string } }[];
  /** Resolves once the predicate holds for what was received (the test's timeout bounds the wait). */
  until(predicate: (received: Received[]) => boolean): Promise<void>;
  /** Resolves once the server completed the subscription (the test's timeout bounds the wait). */
  ended(): Promise<void>;
  stop(): void;
};

export function wsClient(gw: TestGateway, token: string | undefined) {
  const closes: { code: number; reason: string }[] = [];
  const client: Client = createClient({
    url: `${gw.url.replace(/^http/, 'ws')}/graphql`,
    webSocketImpl: WebSocket,
    connectionParams: token ? { authorization: `Bearer ${token}` } : {},
    retryAttempts: 0,
    lazy: true,
    on: {
      closed: (event) =>
        closes.push({
          code: (event as { code: number; reason: string }).code,
          reason: (event as { code: number; reason: string }).reason,
        }),
    },
  });
  return {
    client,
    closes,
    subscribe(query: string, variables: Record<string, unknown> = {}): Subscription {
      const received: Received[] = [];
      const failed: Subscription['failed'] = [];
      let waiters: (() => void)[] = [];
      let completed = false;
      const wake = () => {
        const current = waiters;
        waiters = [];
        for (const w of current) w();
      };
      const stop = client.subscribe(
        { query, variables },
        {
          next: (value: ExecutionResult) => {
            received.push(value as Received);
            wake();
          },
          error: (error: unknown) => {
            const list = Array.isArray(error) ? error : [error];
            for (const e of list)
              failed.push(
                e instanceof Error || (e as { code?: number }).code
                  ? {
                      message: String((e as { reason?: string }).reason ?? (e as Error).message),
                      extensions: { code: String((e as { code?: number }).code) },
                    }
                  : (e as Subscription['failed'][number]),
              );
            wake();
          },
          complete: () => {
            completed = true;
            wake();
          },
        },
      );
      return {
        received,
        failed,
        async until(predicate) {
          while (!predicate(received)) {
            if (failed.length > 0) throw new Error(`subscription failed: ${JSON.stringify(failed)}`);
            if (completed) throw new Error('subscription completed before the expected events arrived');
            await new Promise<void>((resolve) => waiters.push(resolve));
          }
        },
        async ended() {
          while (!completed) await new Promise<void>((resolve) => waiters.push(resolve));
        },
        stop,
      };
    },
    async close() {
      await client.dispose();
    },
  };
}
