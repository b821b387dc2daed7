// Store connection strings, read and written with the driver's own parser: a replica-set
// URI has several hosts and options (`mongodb://a:27017,b:27017/erin?replicaSet=rs0`), so a
// database name is never appended to or cut out of the text.
import { ConnectionString } from 'mongodb-connection-string-url';

/** The database a URI names in its path, if any. */
export function databaseOfUri(uri: string): string | undefined {
  const name = new ConnectionString(uri).pathname.replace(/^\//, '');
  return name ? decodeURIComponent(name) : undefined;
}

/** The same URI (hosts, credentials, options) naming another database. */
export function withDatabase(uri: string, dbName: string): string {
  const parsed = new ConnectionString(uri);
  parsed.pathname = `/${encodeURIComponent(dbName)}`;
  return parsed.toString();
}

/** True when the driver can parse the URI. */
export function parsesAsStoreUri(uri: string): boolean {
  try {
    new ConnectionString(uri);
    return true;
  } catch {
    return false;
  }
}
