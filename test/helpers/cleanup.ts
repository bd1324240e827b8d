// Guaranteed cleanup for the netns kit: everything the kit creates is registered here and torn down
// synchronously on process exit and on SIGINT/SIGTERM/SIGHUP; namespaces left by a crashed earlier run
// (kit prefix + a dead owner pid in the name) are reaped before new ones are made.
import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { NETNS_DIR } from './exec.js';

/** Every kit namespace is named `mkit<ownerPid>-…`; nothing else is ever touched. */
export const KIT_PREFIX = 'mkit';
const KIT_NAME = new RegExp(`^${KIT_PREFIX}(\\d+)-`);

let counter = 0;

/** A fresh name stem `mkit<pid>-<n>[-tag]` unique within this process and across live processes. */
export function uniqueStem(tag?: string): string {
  counter += 1;
  const safeTag = tag?.toLowerCase().replace(/[^a-z0-9]+/g, '').slice(0, 16);
  return `${KIT_PREFIX}${process.pid}-${counter}${safeTag ? `-${safeTag}` : ''}`;
}

type SyncDisposer = () => void;
const disposers = new Set<SyncDisposer>();
let hooksInstalled = false;

/** Register a synchronous last-resort cleanup; returns the function that unregisters it. */
export function registerCleanup(dispose: SyncDisposer): () => void {
  installExitHooks();
  disposers.add(dispose);
  return () => disposers.delete(dispose);
}

function disposeAllSync(): void {
  for (const dispose of [...disposers].reverse()) {
    disposers.delete(dispose);
    try {
      dispose();
    } catch (error) {
      process.stderr.write(`netns kit cleanup failed: ${(error as Error).message}\n`);
    }
  }
}

function installExitHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  process.on('exit', disposeAllSync);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    const onSignal = (): void => {
      disposeAllSync();
      process.off(signal, onSignal);
      // Only re-raise when nobody else handles the signal, so the default action (exit) still happens.
      if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
    };
    process.on(signal, onSignal);
  }
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export function listNetns(): string[] {
  try {
    return readdirSync(NETNS_DIR);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
}

/** Kill the processes inside a namespace (by PID) and delete it; used for dead runs and sync exit cleanup. */
export function deleteNetnsSync(names: readonly string[]): void {
  const existing = new Set(listNetns());
  const present = names.filter((name) => existing.has(name));
  for (const name of present) {
    let pids: string[] = [];
    try {
      pids = execFileSync('ip', ['netns', 'pids', name], { encoding: 'utf8', timeout: 5000 }).split(/\s+/).filter(Boolean);
    } catch {
      // an already-deleted or half-created namespace has no pids to list
    }
    for (const pid of pids) {
      try {
        process.kill(Number(pid), 'SIGKILL');
      } catch {
        // gone already
      }
    }
  }
  if (present.length === 0) return;
  execFileSync('ip', ['-force', '-batch', '-'], {
    input: present.map((name) => `netns del ${name}\n`).join(''),
    stdio: ['pipe', 'ignore', 'ignore'],
    timeout: 10_000,
  });
}

/** Delete kit namespaces whose owner pid is dead (left by a crashed run). Returns what was removed. */
export function reapStaleNamespaces(): string[] {
  const stale = listNetns().filter((name) => {
    const owner = KIT_NAME.exec(name)?.[1];
    return owner !== undefined && Number(owner) !== process.pid && !pidAlive(Number(owner));
  });
  try {
    deleteNetnsSync(stale);
  } catch (error) {
    process.stderr.write(`netns kit: could not reap stale namespaces ${stale.join(', ')}: ${(error as Error).message}\n`);
  }
  return stale;
}

let reaped = false;

/** reapStaleNamespaces, at most once per process (before the first topology). */
export function reapStaleNamespacesOnce(): void {
  if (reaped) return;
  reaped = true;
  reapStaleNamespaces();
}
