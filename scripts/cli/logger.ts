// Daemon logging on stderr (stdout stays free for data), with the reference's levels and line pattern.
import { formatRecovery, type TopicHandle } from '../../lib/index.js';

const LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'critical', 'off'] as const;
export type LogLevel = (typeof LEVELS)[number];

export function checkLogLevel(value: string): LogLevel {
  if (!(LEVELS as readonly string[]).includes(value)) throw new Error(`invalid --logging level "${value}" (valid: ${LEVELS.join(', ')})`);
  return value as LogLevel;
}

function stamp(d: Date): string {
  const p = (n: number, w = 2): string => String(n).padStart(w, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}.${p(d.getMilliseconds(), 3)}`;
}

export class Logger {
  private readonly min: number;
  constructor(level: LogLevel = 'info') {
    this.min = LEVELS.indexOf(level);
  }
  private log(level: LogLevel, message: string): void {
    if (LEVELS.indexOf(level) >= this.min) process.stderr.write(`[${stamp(new Date())}] [${level}] ${message}\n`);
  }
  debug(m: string): void {
    this.log('debug', m);
  }
  info(m: string): void {
    this.log('info', m);
  }
  warn(m: string): void {
    this.log('warn', m);
  }
  error(m: string): void {
    this.log('error', m);
  }

  /** Logs one warning line per recovery report of the topic being opened (an open that fails logs nothing here). */
  recoveriesOf(opening: Promise<TopicHandle>): void {
    void opening.then((h) => h.onRecovery((r) => this.warn(formatRecovery(r))), () => {});
  }
}
