// Client of pod-agent.py: one long-lived python process per namespace that runs echo servers and
// probes on request, many at once, over JSON lines on its stdin/stdout.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { registerCleanup } from './cleanup.js';
import { inNetns } from './exec.js';

export type Proto = 'tcp' | 'udp' | 'sctp';

/**
 * timeout: no answer by the deadline (a silent drop); refused: RST or ICMP port unreachable;
 * unreachable: ICMP host/net unreachable or no route; reset: the connection was reset; closed: the
 * peer closed early; denied: EPERM from the local stack; unsupported: the kernel lacks the protocol.
 */
export type ProbeErrorCode = 'timeout' | 'refused' | 'unreachable' | 'reset' | 'closed' | 'denied' | 'unsupported' | 'error';

export interface ServeOptions {
  proto: Proto;
  /** 0 picks a free port; the chosen one is returned. */
  port: number;
  /** Bind address; default `::` (dual stack, every address of the namespace). */
  host?: string;
}

export interface ProbeTarget {
  proto: Proto;
  ip: string;
  port: number;
  /** Whole-probe deadline (connect + echo). Default 1000 ms. */
  timeoutMs?: number;
}

export interface ProbeRequest extends ProbeTarget {
  /** Bytes sent and expected back; default "probe". A Buffer is sent as is (e.g. a PROXY v2 header). */
  payload?: string | Buffer;
  /** TCP/SCTP to a server that is not a kit echo server: ok once connected and the payload is written. */
  connectOnly?: boolean;
}

export interface ProbeResult {
  ok: boolean;
  /** Name of the agent (pod) whose server answered. */
  from?: string;
  /** Source address of the probe as the answering server saw it. */
  peer?: string;
  /** The echoed payload (utf8). */
  reply?: string;
  error?: ProbeErrorCode;
  detail?: string;
  elapsedMs: number;
}

export interface SendOptions {
  timeoutMs?: number;
}

interface AgentAnswer {
  id: number;
  ok: boolean;
  error?: ProbeErrorCode;
  detail?: string;
  elapsedMs: number;
  [field: string]: unknown;
}

interface Pending {
  resolve: (answer: AgentAnswer) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
}

// The system python (stdlib only); -I -S skip site and user paths: faster start, nothing pyenv-specific.
const PYTHON = '/usr/bin/python3';
const DEFAULT_PROBE_TIMEOUT_MS = 1000;
const DEFAULT_PAYLOAD = 'probe';
/** Slack on top of a request's own deadline before the agent itself counts as hung. */
const ANSWER_SLACK_MS = 5000;
const START_TIMEOUT_MS = 10_000;

/** pod-agent.py beside this module, or in the source tree when running from a compiled copy. */
function agentScript(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  for (let dir = here; dir !== dirname(dir); dir = dirname(dir)) {
    for (const candidate of [join(dir, 'pod-agent.py'), join(dir, 'test', 'helpers', 'pod-agent.py')]) {
      if (existsSync(candidate)) return candidate;
    }
  }
  throw new Error(`pod-agent.py not found from ${here}`);
}

function toResult(answer: AgentAnswer): ProbeResult {
  const result: ProbeResult = { ok: answer.ok, elapsedMs: answer.elapsedMs };
  if (typeof answer.from === 'string') result.from = answer.from;
  if (typeof answer.peer === 'string') result.peer = answer.peer;
  if (typeof answer.reply === 'string') result.reply = Buffer.from(answer.reply, 'base64').toString('utf8');
  if (answer.error !== undefined) result.error = answer.error;
  if (answer.detail !== undefined) result.detail = answer.detail;
  return result;
}

function encodePayload(payload: string | Buffer | undefined): string {
  return Buffer.from(payload ?? DEFAULT_PAYLOAD).toString('base64');
}

export interface SctpSupport {
  supported: boolean;
  reason: string;
}

export class PodAgent {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private exitError: Error | undefined;
  private readonly exited: Promise<void>;
  private stderrTail = '';
  private unregister: () => void = () => undefined;
  sctp: SctpSupport = { supported: false, reason: 'agent not started' };

  private constructor(
    readonly name: string,
    readonly netns: string,
    private readonly child: ChildProcessWithoutNullStreams,
  ) {
    this.exited = new Promise((resolve) => {
      child.once('close', () => resolve());
      child.once('error', () => resolve()); // spawn failed: there will be no process to wait for
    });
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  /** Start an agent named `name` (its servers answer with this name) in namespace `netns`. */
  static async start(name: string, netns: string): Promise<PodAgent> {
    const [command, ...args] = inNetns(netns, [PYTHON, '-I', '-S', '-u', agentScript(), '--name', name]);
    const child = spawn(command as string, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    const agent = new PodAgent(name, netns, child);
    agent.unregister = registerCleanup(() => agent.killSync());
    try {
      await agent.attach();
    } catch (error) {
      await agent.stop();
      throw error;
    }
    return agent;
  }

  private attach(): Promise<void> {
    const { child } = this;
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      this.stderrTail = (this.stderrTail + chunk).slice(-2000);
    });
    child.stdin.on('error', () => undefined); // reported through 'close' below
    return new Promise((resolve, reject) => {
      const startTimer = setTimeout(
        () => reject(new Error(`agent ${this.name} in ${this.netns}: not ready after ${START_TIMEOUT_MS} ms`)),
        START_TIMEOUT_MS,
      );
      child.on('error', (error) => reject(new Error(`agent ${this.name} in ${this.netns}: spawn failed: ${error.message}`)));
      child.on('close', (code, signal) => {
        clearTimeout(startTimer);
        this.exitError = new Error(
          `agent ${this.name} in ${this.netns} exited (${signal ?? `code ${code}`})${this.stderrTail ? `: ${this.stderrTail.trim()}` : ''}`,
        );
        reject(this.exitError);
        for (const pending of this.pending.values()) {
          clearTimeout(pending.timer);
          pending.reject(this.exitError);
        }
        this.pending.clear();
      });
      createInterface({ input: child.stdout }).on('line', (line) => {
        let message: AgentAnswer & { event?: string; sctp?: boolean; sctpReason?: string };
        try {
          message = JSON.parse(line) as typeof message;
        } catch {
          this.stderrTail = `${this.stderrTail}stdout: ${line}\n`.slice(-2000);
          return;
        }
        if (message.event === 'ready') {
          clearTimeout(startTimer);
          this.sctp = { supported: message.sctp === true, reason: message.sctpReason ?? '' };
          resolve();
          return;
        }
        const pending = this.pending.get(message.id);
        if (pending === undefined) return;
        this.pending.delete(message.id);
        clearTimeout(pending.timer);
        pending.resolve(message);
      });
    });
  }

  private request(op: string, fields: Record<string, unknown>, deadlineMs = 0): Promise<AgentAnswer> {
    if (this.exitError) return Promise.reject(this.exitError);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`agent ${this.name}: no answer to ${op} within ${deadlineMs + ANSWER_SLACK_MS} ms`));
      }, deadlineMs + ANSWER_SLACK_MS);
      this.pending.set(id, { resolve, reject, timer });
      this.child.stdin.write(`${JSON.stringify({ id, op, ...fields })}\n`);
    });
  }

  /** A request that must succeed (setup ops): a failure throws, naming agent, op and arguments. */
  private async command(op: string, fields: Record<string, unknown>, deadlineMs = 0): Promise<AgentAnswer> {
    const answer = await this.request(op, fields, deadlineMs);
    if (!answer.ok) {
      const reason = answer.error === 'unsupported' && fields.proto === 'sctp' ? this.sctp.reason : answer.detail;
      throw new Error(`agent ${this.name}: ${op} ${JSON.stringify(fields)} failed: ${answer.error}: ${reason}`);
    }
    return answer;
  }

  /** Start an echo server; resolves with the bound port. */
  async serve(options: ServeOptions): Promise<number> {
    const answer = await this.command('serve', { proto: options.proto, port: options.port, host: options.host });
    return answer.port as number;
  }

  async unserve(options: ServeOptions): Promise<void> {
    await this.command('unserve', { proto: options.proto, port: options.port, host: options.host });
  }

  /** One connection (or datagram), one payload, its echo back; never throws for network outcomes. */
  async probe(request: ProbeRequest): Promise<ProbeResult> {
    const timeoutMs = request.timeoutMs ?? DEFAULT_PROBE_TIMEOUT_MS;
    const answer = await this.request(
      'probe',
      {
        proto: request.proto,
        ip: request.ip,
        port: request.port,
        timeoutMs,
        payload: encodePayload(request.payload),
        connectOnly: request.connectOnly === true,
      },
      timeoutMs,
    );
    return toResult(answer);
  }

  /** A long-lived connection (TCP/SCTP: established now; UDP: a connected socket) for later sends. */
  async openConnection(target: ProbeTarget): Promise<Connection> {
    const timeoutMs = target.timeoutMs ?? DEFAULT_PROBE_TIMEOUT_MS;
    const answer = await this.command('open', { proto: target.proto, ip: target.ip, port: target.port, timeoutMs }, timeoutMs);
    return new Connection(this, answer.conn as number, target, typeof answer.from === 'string' ? answer.from : undefined);
  }

  /** @internal used by Connection */
  async sendOn(conn: number, payload: string | Buffer | undefined, timeoutMs: number): Promise<ProbeResult> {
    return toResult(await this.request('send', { conn, payload: encodePayload(payload), timeoutMs }, timeoutMs));
  }

  /** @internal used by Connection */
  async closeConnection(conn: number): Promise<void> {
    await this.command('close', { conn });
  }

  /** Close every long-lived connection this agent holds; returns how many there were. */
  async closeAllConnections(): Promise<number> {
    return (await this.command('close_all', {})).closed as number;
  }

  killSync(): void {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    try {
      this.child.kill('SIGKILL');
    } catch {
      // already gone
    }
  }

  /** Kill the agent by PID and wait until it has exited. */
  async stop(): Promise<void> {
    this.killSync();
    await this.exited;
    this.unregister();
  }
}

export class Connection {
  constructor(
    private readonly agent: PodAgent,
    readonly id: number,
    readonly target: ProbeTarget,
    /** Which pod's server accepted (TCP/SCTP; undefined for UDP until a reply names it). */
    readonly from: string | undefined,
  ) {}

  /** Send a payload on the established connection and wait for its echo. */
  send(payload?: string | Buffer, options: SendOptions = {}): Promise<ProbeResult> {
    return this.agent.sendOn(this.id, payload, options.timeoutMs ?? this.target.timeoutMs ?? DEFAULT_PROBE_TIMEOUT_MS);
  }

  close(): Promise<void> {
    return this.agent.closeConnection(this.id);
  }
}
