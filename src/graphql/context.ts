// What every resolver receives: the caller, the request's logger and id, the services
// and the request's DataLoaders.
import type { Principal } from '../auth/principal.ts';
import { AccessRecorder } from '../modules/audit/access.ts';
import type { Logger } from '../logger.ts';
import type { Services } from '../services.ts';
import { createLoaders, type Loaders } from './loaders.ts';

export type Context = {
  principal: Principal | null;
  requestId: string;
  logger: Logger;
  services: Services;
  loaders: Loaders;
  /** Fresh loaders for the same caller (a subscription's next event must not see the last one's cache). */
  renewLoaders(): void;
  /** Special-category reads of this request, appended to the log before the response leaves. */
  access: AccessRecorder;
};

/** The context of one operation (an HTTP request, or one subscription of a WebSocket). */
export function createContext(deps: {
  principal: Principal | null;
  requestId: string;
  logger: Logger;
  services: Services;
  /** Where the operation's reads are recorded as coming from (`graphql:…`, `subscription:…`). */
  source: string;
}): Context {
  const { principal, requestId, logger, services, source } = deps;
  const context: Context = {
    principal,
    requestId,
    logger,
    services,
    loaders: createLoaders(services, principal),
    renewLoaders: () => {
      context.loaders = createLoaders(services, principal);
    },
    access: new AccessRecorder(services.executor, principal, source),
  };
  return context;
}
