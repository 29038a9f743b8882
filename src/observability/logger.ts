/**
 * Structured JSON logs (pino). Secrets are redacted wherever they could appear: passwords,
 * Authorization headers, bearer tokens, SPP session ids (header and login answer), cookies.
 */
import { pino, type Logger, type DestinationStream } from 'pino';

export const REDACTED_PATHS = [
  'password',
  '*.password',
  'SPP_PASSWORD',
  '*.SPP_PASSWORD',
  'token',
  '*.token',
  'sessionid',
  '*.sessionid',
  'sessionId',
  '*.sessionId',
  'authorization',
  '*.authorization',
  'headers.authorization',
  'headers.cookie',
  'headers["x-endeavour-sessionid"]',
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-endeavour-sessionid"]',
  '*.headers.authorization',
  '*.headers["x-endeavour-sessionid"]',
];

export function createLogger(level: string, destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'spp-jobsession-gateway' },
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    destination,
  );
}
