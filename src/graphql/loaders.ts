// Per-request DataLoaders: whatever a page of results fans out to is fetched in one
// store round trip per kind, and each record at most once per request.
import DataLoader from 'dataloader';
import type { Services } from '../services.ts';

export function createLoaders(services: Services) {
  return {
    organisation: new DataLoader((codes: readonly string[]) => services.organisations.getMany(codes)),
    programme: new DataLoader((codes: readonly string[]) => services.organisations.getProgrammes(codes)),
  };
}

export type Loaders = ReturnType<typeof createLoaders>;
