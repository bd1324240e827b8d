// What a pod's own metadata asks of moat: allowlists (moat.dev/allow-*), its mode (moat.dev/mode), and
// the ports only loopback may reach (waypoints, moat.dev/loopback-only-ports).
import {
  ANNOTATION_ALLOW_EGRESS,
  ANNOTATION_ALLOW_INGRESS,
  ANNOTATION_ISTIO_WAYPOINT_BINDING,
  ANNOTATION_LOOPBACK_ONLY_PORTS,
  DEFAULT_WAYPOINT_SELECTORS,
  LABEL_MODE,
  LABEL_WAYPOINT,
  MESH_RESERVED_PORTS,
  WAYPOINT_PROXY_PORT,
  type Direction,
  type LabelSelectorRequirement,
  type Mode,
  type Namespace,
  type Pod,
  type PodAllowlist,
} from './model.js';
import { AllowlistSyntaxError, parseAllowlist, renderAllowlistError } from './allowlist-grammar.js';
import { requirementMatches } from './selectors.js';

export { AllowlistSyntaxError, parseAllowlist, renderAllowlistError } from './allowlist-grammar.js';

export const ALLOWLIST_ANNOTATIONS: Readonly<Record<Direction, string>> = {
  ingress: ANNOTATION_ALLOW_INGRESS,
  egress: ANNOTATION_ALLOW_EGRESS,
};

/** One direction's annotation: undefined when absent; a bad value fails closed (no rules) with `error` set. */
export function podAllowlist(pod: Pod, direction: Direction): PodAllowlist | undefined {
  const key = ALLOWLIST_ANNOTATIONS[direction];
  const text = pod.annotations[key];
  if (text === undefined) return undefined;
  try {
    return { rules: parseAllowlist(text, direction) };
  } catch (error) {
    if (!(error instanceof AllowlistSyntaxError)) throw error;
    return { rules: [], error: `Pod ${pod.namespace}/${pod.name}: ${renderAllowlistError(key, text, error)}` };
  }
}

export function podAllowlists(pod: Pod): { ingress?: PodAllowlist; egress?: PodAllowlist } {
  const ingress = podAllowlist(pod, 'ingress');
  const egress = podAllowlist(pod, 'egress');
  return { ...(ingress && { ingress }), ...(egress && { egress }) };
}

const MODES: readonly Mode[] = ['enforce', 'audit'];

/** The pod's label wins over its namespace's; an invalid value enforces (fail closed) and is reported. */
export function resolveMode(pod: Pod, namespace?: Namespace): { mode: Mode; errors: string[] } {
  const sources = [
    { what: `Pod ${pod.namespace}/${pod.name}`, value: pod.labels[LABEL_MODE] },
    { what: `Namespace ${namespace?.name ?? pod.namespace}`, value: namespace?.labels[LABEL_MODE] },
  ];
  const decisive = sources.find((source) => source.value !== undefined);
  if (decisive === undefined) return { mode: 'enforce', errors: [] };
  if (MODES.includes(decisive.value as Mode)) return { mode: decisive.value as Mode, errors: [] };
  return {
    mode: 'enforce',
    errors: [`${decisive.what}: label ${LABEL_MODE}=${JSON.stringify(decisive.value)} is not one of enforce, audit; enforcing`],
  };
}

export function podMode(pod: Pod, namespace?: Namespace): Mode {
  return resolveMode(pod, namespace).mode;
}

export function isWaypoint(pod: Pod, waypointSelectors: readonly LabelSelectorRequirement[] = DEFAULT_WAYPOINT_SELECTORS): boolean {
  return pod.labels[LABEL_WAYPOINT] === 'true' || waypointSelectors.some((requirement) => requirementMatches(requirement, pod.labels));
}

function parseGuardPort(text: string): number | undefined {
  if (!/^[0-9]{1,5}$/.test(text)) return undefined;
  const port = Number(text);
  return port >= 1 && port <= 65535 ? port : undefined;
}

/** Port of `PROTOCOL[/PORT]` (Istio's waypoint-inbound-binding); a PROXY binding without a port is 15088. */
function bindingPort(binding: string): number | string {
  const [protocol, portText, ...rest] = binding.trim().split('/');
  if (protocol === undefined || protocol === '' || rest.length > 0) return `"${binding}" is not PROTOCOL[/PORT]`;
  if (portText === undefined) return WAYPOINT_PROXY_PORT;
  return parseGuardPort(portText) ?? `"${portText}" is not a port number 1-65535`;
}

/**
 * TCP ports of the pod that only loopback may reach. Waypoints get 15088, their inbound binding's port
 * and the moat.dev/loopback-only-ports list; other pods get the list only (it is explicit). A mesh port
 * that must stay reachable is never guarded: configuring one is an error, the other ports still count.
 */
export function guardedPorts(pod: Pod, waypointSelectors: readonly LabelSelectorRequirement[] = DEFAULT_WAYPOINT_SELECTORS): { ports: number[]; errors: string[] } {
  const ports = new Set<number>();
  const errors: string[] = [];
  const where = `Pod ${pod.namespace}/${pod.name}`;
  const guard = (port: number, source: string): void => {
    if (MESH_RESERVED_PORTS.includes(port)) errors.push(`${where}: ${source}: port ${port} is a mesh port that must stay reachable; not guarded`);
    else ports.add(port);
  };
  const waypoint = isWaypoint(pod, waypointSelectors);
  if (waypoint) ports.add(WAYPOINT_PROXY_PORT);
  const list = pod.annotations[ANNOTATION_LOOPBACK_ONLY_PORTS];
  if (list !== undefined) {
    for (const entry of list.split(',').map((text) => text.trim()).filter((text) => text !== '')) {
      const port = parseGuardPort(entry);
      if (port === undefined) errors.push(`${where}: ${ANNOTATION_LOOPBACK_ONLY_PORTS}: "${entry}" is not a port number 1-65535`);
      else guard(port, ANNOTATION_LOOPBACK_ONLY_PORTS);
    }
  }
  const binding = pod.annotations[ANNOTATION_ISTIO_WAYPOINT_BINDING];
  if (waypoint && binding !== undefined) {
    const port = bindingPort(binding);
    if (typeof port === 'number') guard(port, ANNOTATION_ISTIO_WAYPOINT_BINDING);
    else errors.push(`${where}: ${ANNOTATION_ISTIO_WAYPOINT_BINDING}: ${port}`);
  }
  return { ports: [...ports].sort((a, b) => a - b), errors };
}
