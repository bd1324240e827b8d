// Running commands for the netns kit: bounded by a timeout, killed by PID (their own process group),
// and failing with an error that names the command, its namespace and its stderr.
import { spawn, type ChildProcess } from 'node:child_process';

export const NETNS_DIR = '/var/run/netns';

export function netnsPath(name: string): string {
  return `${NETNS_DIR}/${name}`;
}

/** argv prefix that runs a command in a named namespace; nsenter (unlike `ip netns exec`) keeps /sys/fs/bpf pins visible. */
export function inNetns(name: string, argv: readonly string[]): string[] {
  return ['nsenter', `--net=${netnsPath(name)}`, '--', ...argv];
}

export interface RunOptions {
  /** Kill the command (SIGKILL to its process group) and reject after this long. Default 10 s. */
  timeoutMs?: number;
  /** Written to stdin, which is then closed. */
  input?: string;
  /** Reject when the exit code is not 0. Default true. */
  check?: boolean;
}

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export class CommandError extends Error {
  constructor(
    readonly argv: readonly string[],
    readonly result: RunResult | undefined,
    reason: string,
  ) {
    const stderr = result?.stderr.trim();
    super(`${argv.join(' ')}: ${reason}${stderr ? `: ${stderr}` : ''}`);
    this.name = 'CommandError';
  }
}

const DEFAULT_TIMEOUT_MS = 10_000;

/** Kill a child we spawned detached, with everything it started, by its process group id. */
export function killGroup(child: ChildProcess): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
  }
}

export function run(argv: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  const [command, ...args] = argv;
  if (command === undefined) return Promise.reject(new Error('run: empty argv'));
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'], detached: true });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const timer = setTimeout(() => {
      killGroup(child);
      reject(new CommandError(argv, { code: null, signal: 'SIGKILL', stdout, stderr }, `timed out after ${timeoutMs} ms`));
    }, timeoutMs);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(new CommandError(argv, undefined, error.message));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const result = { code, signal, stdout, stderr };
      if ((options.check ?? true) && code !== 0) {
        reject(new CommandError(argv, result, signal ? `killed by ${signal}` : `exit code ${code}`));
      } else {
        resolve(result);
      }
    });
    child.stdin.on('error', () => undefined); // a command that exits without reading its input is not our error
    child.stdin.end(options.input ?? '');
  });
}

/** Run argv inside network namespace `netns` (by name under /var/run/netns). */
export function runIn(netns: string, argv: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  return run(inNetns(netns, argv), options);
}
