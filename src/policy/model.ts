// The one policy model every source feeds and every consumer reads (compiler, evaluator, explain).
// Values are plain data, already validated by the parsers: no I/O, no Kubernetes client types.

export type Protocol = 'TCP' | 'UDP' | 'SCTP';
export type Direction = 'ingress' | 'egress';
export type Mode = 'enforce' | 'audit';
export type Labels = Readonly<Record<string, string>>;

export interface LabelSelectorRequirement {
  readonly key: string;
  readonly operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist';
  readonly values: readonly string[];
}

/** Kubernetes LabelSelector: an empty selector (no labels, no expressions) selects everything. */
export interface LabelSelector {
  readonly matchLabels: Labels;
  readonly matchExpressions: readonly LabelSelectorRequirement[];
}

export interface Namespace {
  readonly name: string;
  readonly labels: Labels;
}

export interface ContainerPort {
  readonly name?: string;
  readonly port: number;
  readonly protocol: Protocol;
}

export interface Pod {
  readonly namespace: string;
  readonly name: string;
  readonly labels: Labels;
  readonly annotations: Readonly<Record<string, string>>;
  /** status.podIPs (or podIP), canonical text form; empty while the pod has no address yet. */
  readonly ips: readonly string[];
  readonly nodeName?: string;
  readonly hostNetwork: boolean;
  readonly ports: readonly ContainerPort[];
}

/** A port of a rule: number or named (resolved per destination pod), optional endPort range. */
export interface PolicyPort {
  readonly protocol: Protocol;
  /** undefined = every port of the protocol */
  readonly port?: number | string;
  readonly endPort?: number;
}

export interface IPBlock {
  readonly cidr: string;
  readonly except: readonly string[];
}

/**
 * One peer of a rule. Kubernetes semantics:
 * - podSelector only: pods in the policy's namespace;
 * - namespaceSelector only: every pod of the selected namespaces;
 * - both: pods matching podSelector in the selected namespaces (AND);
 * - ipBlock: addresses, pods included.
 * `namespaces` is moat's annotation form (namespace by name) and combines with podSelector like
 * namespaceSelector does.
 */
export type Peer =
  | {
      readonly kind: 'pods';
      readonly podSelector?: LabelSelector;
      readonly namespaceSelector?: LabelSelector;
      readonly namespaceNames?: readonly string[];
    }
  | { readonly kind: 'ipBlock'; readonly ipBlock: IPBlock };

/** One allow rule. `peers` empty = any peer; `ports` empty = every port of every protocol. */
export interface Rule {
  readonly peers: readonly Peer[];
  readonly ports: readonly PolicyPort[];
}

/** Where a rule came from, for explain, events and metrics. */
export type RuleOrigin =
  | { readonly kind: 'networkpolicy'; readonly namespace: string; readonly name: string }
  | { readonly kind: 'annotation'; readonly namespace: string; readonly pod: string; readonly key: string };

/** networking.k8s.io/v1 NetworkPolicy after validation, with policyTypes defaults applied. */
export interface NetworkPolicy {
  readonly namespace: string;
  readonly name: string;
  readonly podSelector: LabelSelector;
  readonly policyTypes: readonly Direction[];
  readonly ingress: readonly Rule[];
  readonly egress: readonly Rule[];
}

/**
 * Allowlist written on the pod (moat.dev/allow-ingress / allow-egress). The presence of a direction
 * isolates it; `rules` empty denies all. `error` set = the annotation did not parse: the direction is
 * isolated with no rules (fail closed) and the error is reported.
 */
export interface PodAllowlist {
  readonly rules: readonly Rule[];
  readonly error?: string;
}

export interface ServicePort {
  readonly name?: string;
  readonly protocol: Protocol;
  readonly port: number;
  readonly targetPort?: number | string;
  readonly nodePort?: number;
}

export interface Service {
  readonly namespace: string;
  readonly name: string;
  readonly clusterIPs: readonly string[];
  readonly ports: readonly ServicePort[];
  readonly selector?: Labels;
}

export interface EndpointSlice {
  readonly namespace: string;
  readonly name: string;
  readonly serviceName: string;
  readonly addresses: readonly string[];
  readonly ports: readonly { readonly name?: string; readonly protocol: Protocol; readonly port: number }[];
}

export interface NodeInfo {
  readonly name: string;
  /** The node's own addresses (for host-network pods and the host guard). */
  readonly ips: readonly string[];
}

export interface ClusterState {
  readonly node: NodeInfo;
  readonly namespaces: readonly Namespace[];
  readonly pods: readonly Pod[];
  readonly policies: readonly NetworkPolicy[];
  readonly services: readonly Service[];
  readonly endpointSlices: readonly EndpointSlice[];
}

/** A flow as the evaluator and explain see it. Endpoints are pods (by namespace/name) or bare IPs. */
export type FlowEnd = { readonly pod: { readonly namespace: string; readonly name: string } } | { readonly ip: string };

export interface Flow {
  readonly from: FlowEnd;
  readonly to: FlowEnd;
  /** 'ICMP' stands for any non-port protocol (only rules without ports allow it). */
  readonly protocol: Protocol | 'ICMP';
  readonly port: number;
  /** Traffic originated by the node itself (kubelet probes). */
  readonly fromNode?: boolean;
}

export const ANNOTATION_ALLOW_INGRESS = 'moat.dev/allow-ingress';
export const ANNOTATION_ALLOW_EGRESS = 'moat.dev/allow-egress';
export const ANNOTATION_LOOPBACK_ONLY_PORTS = 'moat.dev/loopback-only-ports';
export const ANNOTATION_ISTIO_WAYPOINT_BINDING = 'ambient.istio.io/waypoint-inbound-binding';
export const LABEL_MODE = 'moat.dev/mode';
export const LABEL_WAYPOINT = 'moat.dev/waypoint';
export const WAYPOINT_PROXY_PORT = 15088;
/** Mesh ports that must keep working from outside the pod: guarding one is a configuration error. */
export const MESH_RESERVED_PORTS: readonly number[] = [15001, 15006, 15008, 15009, 15020, 15021, 15090];
/** Default waypoint selectors (label key → accepted values). */
export const DEFAULT_WAYPOINT_SELECTORS: readonly LabelSelectorRequirement[] = [
  { key: 'gateway.networking.k8s.io/gateway-class-name', operator: 'In', values: ['kgateway-waypoint', 'istio-waypoint'] },
];
