// The light part of the CLI's shared state, loaded by main.ts before any command: it must not
// pull in the Kafka client library, so `fjord broker`/`fjord dev` start fast.

/** An operation failed: one-line message, exit code 1 unless told otherwise. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}

/** Flags every client command accepts (anywhere on the command line). */
export const GLOBAL_SPEC: Record<string, boolean> = { '-b': true, '--bootstrap': true, '--json': false, '--command-config': true };

let leading: string[] = [];

/** Global flags given before the command name (`fjord -b host:port topic list`). */
export function setLeadingGlobals(argv: string[]): void {
  leading = argv;
}

export function leadingGlobals(): string[] {
  return leading;
}
