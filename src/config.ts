// Agent and CLI configuration: one YAML file plus flags, validated once, typed and frozen.
import { z } from 'zod';
import { healthSchema, metricsSchema, stateDirSchema } from './observe/endpoint-config.js';

const mapSizes = z.strictObject({
  endpoints: z.number().int().min(16).default(4096),
  ipcache: z.number().int().min(64).default(131072),
  cidrAtoms: z.number().int().min(16).default(16384),
  policy: z.number().int().min(64).default(262144),
  ctTcp: z.number().int().min(1024).default(524288),
  ctOther: z.number().int().min(1024).default(131072),
  frags: z.number().int().min(64).default(8192),
  services: z.number().int().min(16).default(65536),
  counters: z.number().int().min(64).default(65536),
  events: z.number().int().min(4096).default(1 << 20),
});

const waypointSelector = z.strictObject({
  key: z.string().min(1),
  operator: z.enum(['In', 'NotIn', 'Exists', 'DoesNotExist']),
  values: z.array(z.string()).default([]),
});

const agent = z.strictObject({
  /** Where the cluster state comes from. */
  source: z.enum(['kubernetes', 'file', 'docker']).default('kubernetes'),
  /** kubeconfig for running outside the cluster; unset = in-cluster service account (or $KUBECONFIG). */
  kubeconfig: z.string().min(1).optional(),
  /** file source: the directory of Kubernetes YAML to enforce. */
  dir: z.string().min(1).optional(),
  dockerSocket: z.string().startsWith('/').default('/var/run/docker.sock'),
  /** Triggers arriving within this window share one reconcile pass. */
  debounceMs: z.number().int().min(0).max(10_000).default(10),
  /** Full pass (re-read the pinned maps, repair drift) and Kubernetes relist period. */
  resyncSeconds: z.number().int().min(1).default(300),
  retryInitialMs: z.number().int().min(1).default(100),
  retryMaxMs: z.number().int().min(1).default(30_000),
  /** Where pod network namespaces are mounted (CRI, Docker): searched for pods that have no host veth. */
  netnsDirs: z.array(z.string().startsWith('/')).default(['/var/run/netns', '/var/run/docker/netns']),
  /** Create a Kubernetes Event for each rejected object (needs RBAC create on events). */
  kubernetesEvents: z.boolean().default(true),
});

export type AgentConfig = z.infer<typeof agent>;

export const configSchema = z.strictObject({
  /** Where programs, maps and links are pinned. */
  bpffsRoot: z.string().startsWith('/').default('/sys/fs/bpf/moat'),
  /** What a pod veth that matches no known pod gets. */
  unknownEndpoint: z.enum(['allow', 'deny']).default('allow'),
  nodeName: z.string().default(''),
  mapSizes: mapSizes.default(mapSizes.parse({})),
  waypointSelectors: z.array(waypointSelector).optional(),
  conntrack: z.strictObject({
    tcpTimeoutSeconds: z.number().int().positive().default(21600),
    tcpClosingTimeoutSeconds: z.number().int().positive().default(10),
    otherTimeoutSeconds: z.number().int().positive().default(60),
  }).default({ tcpTimeoutSeconds: 21600, tcpClosingTimeoutSeconds: 10, otherTimeoutSeconds: 60 }),
  agent: agent.default(agent.parse({})),
  events: z.strictObject({
    allowSample: z.number().int().min(0).default(0),
    perSecond: z.number().int().min(0).default(1000),
  }).default({ allowSample: 0, perSecond: 1000 }),
  /** Files other commands read (names.json for `moat flows` and `moat advise`). */
  stateDir: stateDirSchema,
  health: healthSchema.prefault({}),
  metrics: metricsSchema.prefault({}),
});

export type Config = Readonly<z.infer<typeof configSchema>>;

export class ConfigError extends Error {
  constructor(readonly source: string, readonly issues: readonly string[]) {
    super(`invalid configuration in ${source}:\n  ${issues.join('\n  ')}`);
    this.name = 'ConfigError';
  }
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

/** Validate raw configuration (from YAML and flags); errors name each offending field. */
export function parseConfig(raw: unknown, source = 'configuration'): Config {
  const result = configSchema.safeParse(raw ?? {});
  if (!result.success) {
    throw new ConfigError(source, result.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`));
  }
  return deepFreeze(result.data);
}
