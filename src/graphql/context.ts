// What every resolver receives: the caller, the request's logger and id, the services
// and the request's DataLoaders.
import type { Principal } from '../auth/principal.ts';
import type { AccessRecorder } from '../modules/audit/access.ts';
import type { Logger } from '../logger.ts';
import type { Services } from '../services.ts';
import type { Loaders } from './loaders.ts';

export type Context = {
  principal: Principal | null;
  requestId: string;
  logger: Logger;
  services: Services;
  loaders: Loaders;
  /** Special-category reads of this request, appended to the log before the response leaves. */
  access: AccessRecorder;
};
