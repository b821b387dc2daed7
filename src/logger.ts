// One pino logger for the process. Tokens and personal data never reach it: the
// redaction list covers the places they could appear by accident.
import { pino, type Logger } from 'pino';

export type { Logger };

export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-erin-token"]',
  'res.headers["set-cookie"]',
  'headers.authorization',
  'authorization',
  'token',
  '*.token',
  'connectionParams.authorization',
  'variables',
  '*.variables',
];

export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      base: { service: 'erin-exchange' },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    destination,
  );
}
