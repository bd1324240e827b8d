// The configuration a command runs with: an optional YAML file, then flags on top, validated once.
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { parseConfig, type Config } from '../config.js';

export interface ConfigFlags {
  readonly config?: string;
  readonly bpffsRoot?: string;
  readonly nodeName?: string;
  readonly unknownEndpoint?: string;
}

export function loadConfig(flags: ConfigFlags): Config {
  const fromFile: Record<string, unknown> = flags.config ? ((parse(readFileSync(flags.config, 'utf8')) as Record<string, unknown> | null) ?? {}) : {};
  const overrides = Object.fromEntries(
    Object.entries({ bpffsRoot: flags.bpffsRoot, nodeName: flags.nodeName, unknownEndpoint: flags.unknownEndpoint }).filter(([, v]) => v !== undefined),
  );
  return parseConfig({ ...fromFile, ...overrides }, flags.config ?? 'flags');
}
