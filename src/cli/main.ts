// CLI wiring only: parse argv, hand each command its options, map outcomes to documented exit codes.
import { Command, CommanderError, Option } from 'commander';
import { readFileSync } from 'node:fs';
import { EXIT, type ExitCode } from './exit-codes.js';
import { createOutput, type OutputFormat } from './output.js';
import { explain } from './explain.js';
import { apply } from './apply.js';
import { status } from './status.js';
import { loadConfig, type ConfigFlags } from './config-file.js';
import { resetDatapath } from '../datapath/kernel.js';

const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };

const outputOption = () => new Option('-o, --output <format>', 'output format').choices(['text', 'json']).default('text');

/** Options every command that touches the node's datapath shares. */
function withNodeOptions(command: Command): Command {
  return command
    .option('--config <file>', 'configuration file (YAML)')
    .option('--bpffs-root <dir>', 'where programs, maps and links are pinned (default /sys/fs/bpf/moat)')
    .option('--node-name <name>', 'this node: pods scheduled elsewhere are peers only')
    .addOption(new Option('--unknown-endpoint <action>', 'what a pod veth matching no pod gets').choices(['allow', 'deny']))
    .addOption(outputOption());
}

type NodeCommandOptions = ConfigFlags & { output: OutputFormat };

export function buildProgram(setExit: (code: ExitCode) => void): Command {
  const program = new Command('moat')
    .description('Node-level network isolation: NetworkPolicy and pod allowlists enforced in BPF on pod veths')
    .version(pkg.version, '-V, --version')
    .exitOverride()
    .showHelpAfterError();

  program
    .command('explain')
    .description('the verdict for one flow and the policy or annotation rule behind it')
    .requiredOption('-f, --filename <path>', 'Kubernetes YAML file or directory')
    .requiredOption('--from <ns/pod|ip>', 'source pod or address')
    .requiredOption('--to <ns/pod|ip>', 'destination pod or address')
    .requiredOption('--port <port/proto>', 'destination port, e.g. 80/tcp, 53/udp, or icmp')
    .option('--node-name <name>', 'this node (pods scheduled elsewhere are peers only)', '')
    .addOption(outputOption())
    .action((o: { filename: string; from: string; to: string; port: string; nodeName: string; output: OutputFormat }) => {
      setExit(explain({ file: o.filename, from: o.from, to: o.to, port: o.port, nodeName: o.nodeName }, createOutput(o.output)));
    });

  withNodeOptions(
    program
      .command('apply')
      .description('enforce exactly the state in Kubernetes YAML on this node (exit 3: applied with rejected objects)')
      .requiredOption('-f, --filename <path>', 'Kubernetes YAML file or directory'),
  ).action((o: NodeCommandOptions & { filename: string }) => {
    setExit(apply(o.filename, loadConfig(o), createOutput(o.output)));
  });

  withNodeOptions(program.command('status').description('hooked devices, map fill and drops on this node')).action((o: NodeCommandOptions) => {
    setExit(status(loadConfig(o), createOutput(o.output)));
  });

  withNodeOptions(program.command('reset').description('detach every moat program and remove every pin')).action((o: NodeCommandOptions) => {
    const config = loadConfig(o);
    const removed = resetDatapath(config.bpffsRoot);
    createOutput(o.output).result(removed, () => `removed ${removed.links} link(s) and ${removed.filters} tc filter(s); ${config.bpffsRoot} is gone`);
    setExit(EXIT.ok);
  });

  return program;
}

export async function main(argv: readonly string[]): Promise<ExitCode> {
  let code: ExitCode = EXIT.ok;
  const program = buildProgram((c) => (code = c));
  try {
    await program.parseAsync([...argv]);
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? EXIT.ok : EXIT.usage;
    console.error(`moat: ${err instanceof Error ? err.message : String(err)}`);
    return EXIT.failed;
  }
  return code;
}
