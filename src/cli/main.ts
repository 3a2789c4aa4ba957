// The `fjord` command.
import { ConfigError } from '../broker/config.js';
import { UsageError } from './args.js';
import { brokerCommand, brokerUsage, devCommand, devUsage } from './broker-commands.js';

const commands: Record<string, { run: (argv: string[]) => Promise<void>; usage: string; summary: string }> = {
  dev: { run: devCommand, usage: devUsage, summary: 'run a local broker with embedded defaults (127.0.0.1:9092, ./.fjord)' },
  broker: { run: brokerCommand, usage: brokerUsage, summary: 'run a broker: --listen HOST:PORT --data-dir DIR [--config k=v]' },
};

function help(): string {
  const lines = ['usage: fjord <command> [options]', '', 'commands:'];
  for (const [name, c] of Object.entries(commands)) lines.push(`  ${name.padEnd(10)} ${c.summary}`);
  lines.push('', 'fjord <command> --help shows a command\'s options.');
  return lines.join('\n');
}

async function main(argv: string[]): Promise<void> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(help() + '\n');
    return;
  }
  const command = commands[name];
  if (!command) throw new UsageError(`unknown command "${name}"\n\n${help()}`);
  if (rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(command.usage + '\n');
    return;
  }
  await command.run(rest);
}

main(process.argv.slice(2)).catch((err: unknown) => {
  if (err instanceof UsageError || err instanceof ConfigError) {
    process.stderr.write(`fjord: ${err.message}\n`);
    process.exit(2);
  }
  const e = err as NodeJS.ErrnoException;
  if (e?.code === 'EADDRINUSE') {
    process.stderr.write(`fjord: address already in use: ${e.message}\n`);
    process.exit(1);
  }
  process.stderr.write(`fjord: ${e?.stack ?? String(err)}\n`);
  process.exit(1);
});
