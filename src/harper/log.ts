// Everything inside HarperDB logs through HarperDB's logger, tagged with the component name.
import { logger } from 'harperdb';

type LogFn = (...args: unknown[]) => void;
export interface Log {
  error: LogFn;
  warn: LogFn;
  info: LogFn;
  debug: LogFn;
  trace: LogFn;
}

const tagged = logger.withTag?.('mqtt-bridge') ?? logger;
const level = (fn: LogFn | undefined): LogFn => (...args) => fn?.apply(tagged, args);

export const log: Log = {
  error: level(tagged.error),
  warn: level(tagged.warn),
  info: level(tagged.info),
  debug: level(tagged.debug),
  trace: level(tagged.trace),
};
