// The broker's leveled loggers (pino): one child per component, named like Kafka's BROKER_LOGGER
// resources list them. DescribeConfigs / IncrementalAlterConfigs on the broker-logger resource
// read and change these levels (via ConfigAdmin); a component whose level is not set follows root.
import { pino, type DestinationStream, type Logger } from 'pino';

/** Kafka's level names, as BROKER_LOGGER configs carry them. */
export const LOG_LEVELS = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'FATAL', 'OFF'] as const;
export type KafkaLogLevel = (typeof LOG_LEVELS)[number];

export const BROKER_LOGGERS = ['root', 'fjord.net', 'fjord.broker', 'fjord.storage', 'fjord.cluster', 'fjord.coordinator'] as const;
export type LoggerName = (typeof BROKER_LOGGERS)[number];

const DEFAULT_LEVEL: KafkaLogLevel = 'INFO';

const pinoLevel: Record<KafkaLogLevel, pino.LevelWithSilent> = {
  TRACE: 'trace',
  DEBUG: 'debug',
  INFO: 'info',
  WARN: 'warn',
  ERROR: 'error',
  FATAL: 'fatal',
  OFF: 'silent',
};

/** A line-oriented sink: each log record's message, prefixed by its logger name. */
function textSink(write: (line: string) => void): DestinationStream {
  return {
    write(json: string) {
      const rec = JSON.parse(json) as { msg?: string; name?: string };
      write(rec.name && rec.name !== 'root' ? `[${rec.name}] ${rec.msg ?? ''}` : (rec.msg ?? ''));
    },
  };
}

export class BrokerLoggers {
  private readonly loggers = new Map<LoggerName, Logger>();
  private readonly enabled: boolean;
  private readonly explicit = new Map<LoggerName, KafkaLogLevel>();

  /** `sink` receives one line per record; without one, nothing is written (in-process use). */
  constructor(sink?: ((line: string) => void) | DestinationStream) {
    const destination = sink === undefined ? undefined : typeof sink === 'function' ? textSink(sink) : sink;
    const root = destination
      ? pino({ name: 'root', level: 'info', base: null, timestamp: false }, destination)
      : pino({ name: 'root', level: 'silent', enabled: false });
    this.loggers.set('root', root);
    for (const name of BROKER_LOGGERS) if (name !== 'root') this.loggers.set(name, root.child({ name }));
    this.enabled = destination !== undefined;
    this.apply();
  }

  get(name: LoggerName): Logger {
    return this.loggers.get(name)!;
  }

  /** A plain `(msg) => void` at info level, for components that take a log function. */
  info(name: LoggerName): (msg: string) => void {
    const logger = this.get(name);
    return (msg) => logger.info(msg);
  }

  /** A plain `(msg) => void` at warn level (failures worth an operator's attention). */
  warn(name: LoggerName): (msg: string) => void {
    const logger = this.get(name);
    return (msg) => logger.warn(msg);
  }

  /** Effective level of every logger, and whether it was set explicitly. */
  levels(): { name: string; level: KafkaLogLevel; set: boolean }[] {
    const root = this.explicit.get('root') ?? DEFAULT_LEVEL;
    return BROKER_LOGGERS.map((name) => {
      const own = this.explicit.get(name);
      return { name, level: own ?? root, set: own !== undefined };
    });
  }

  /** Sets a logger's level (null = back to following root, or the default for root). */
  setLevel(name: LoggerName, level: KafkaLogLevel | null): void {
    if (level === null) this.explicit.delete(name);
    else this.explicit.set(name, level);
    this.apply();
  }

  private apply(): void {
    if (!this.enabled) return;
    const root = this.explicit.get('root') ?? DEFAULT_LEVEL;
    for (const [name, logger] of this.loggers) logger.level = pinoLevel[this.explicit.get(name) ?? root];
  }
}
