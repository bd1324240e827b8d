// Long-running commands inside a namespace (iperf3 servers, a moat agent, tcpdump): started in their
// own process group, killed by that group id on stop(), on topology destroy and on process exit.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { registerCleanup } from './cleanup.js';
import { inNetns, killGroup } from './exec.js';

const OUTPUT_TAIL_CHARS = 64 * 1024;

export class BackgroundProcess {
  private outputTail = '';
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private readonly unregister: () => void;

  private constructor(
    readonly argv: readonly string[],
    private readonly child: ChildProcessWithoutNullStreams,
  ) {
    const collect = (chunk: string): void => {
      this.outputTail = (this.outputTail + chunk).slice(-OUTPUT_TAIL_CHARS);
    };
    child.stdout.setEncoding('utf8').on('data', collect);
    child.stderr.setEncoding('utf8').on('data', collect);
    child.stdin.on('error', () => undefined);
    this.exited = new Promise((resolve) => {
      child.once('error', (error) => {
        collect(`spawn failed: ${error.message}\n`);
        resolve({ code: null, signal: null });
      });
      child.once('close', (code, signal) => resolve({ code, signal }));
    });
    this.unregister = registerCleanup(() => killGroup(child));
  }

  static start(netns: string, argv: readonly string[]): BackgroundProcess {
    const full = inNetns(netns, argv);
    const [command, ...args] = full;
    return new BackgroundProcess(full, spawn(command as string, args, { stdio: ['pipe', 'pipe', 'pipe'], detached: true }));
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  /** The last 64 KiB of stdout and stderr, interleaved as they arrived. */
  get output(): string {
    return this.outputTail;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Resolve once `pattern` appears in the output; reject on exit or after timeoutMs. */
  async waitForOutput(pattern: RegExp, timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!pattern.test(this.outputTail)) {
      if (!this.running) throw new Error(`${this.argv.join(' ')} exited before printing ${pattern}: ${this.outputTail.trim()}`);
      if (Date.now() > deadline) throw new Error(`${this.argv.join(' ')}: no ${pattern} in its output after ${timeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  async stop(): Promise<void> {
    killGroup(this.child);
    await this.exited;
    this.unregister();
  }
}
