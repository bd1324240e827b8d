// CLI wiring only: parse argv, hand each command its options, map outcomes to documented exit codes.
import { Command, CommanderError } from 'commander';
import { readFileSync } from 'node:fs';
import { EXIT, type ExitCode } from './exit-codes.js';

const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };

export function buildProgram(): Command {
  const program = new Command('moat')
    .description('Node-level network isolation: NetworkPolicy and pod allowlists enforced in BPF on pod veths')
    .version(pkg.version, '-V, --version')
    .exitOverride()
    .showHelpAfterError();
  return program;
}

export async function main(argv: readonly string[]): Promise<ExitCode> {
  const program = buildProgram();
  let code: ExitCode = EXIT.ok;
  program.hook('postAction', (_cmd, action) => {
    code = (action as Command & { exitCode?: ExitCode }).exitCode ?? EXIT.ok;
  });
  try {
    await program.parseAsync([...argv]);
  } catch (err) {
    if (err instanceof CommanderError) {
      return err.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    console.error(`moat: ${err instanceof Error ? err.message : String(err)}`);
    return EXIT.failed;
  }
  return code;
}
