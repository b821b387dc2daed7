// Tests of the embedded store itself (its supervisor, a crash, `npm start` on an empty data
// folder) start one of their own. A run against MONGODB_URI needs no embedded store: they run
// when it is built (`npm run store:build`) and are skipped when it is not.
import { storeBinaryIsCurrent } from '../../src/store/build.ts';

export const againstMongodbUri = Boolean(process.env.MONGODB_URI);

export const embeddedStoreAvailable = !againstMongodbUri || storeBinaryIsCurrent();
