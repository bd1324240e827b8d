// networking.k8s.io/v1 NetworkPolicy: validation as in k8s pkg/apis/networking/validation, defaults applied.
import type { Direction, IPBlock, NetworkPolicy, Peer, PolicyPort, Rule } from './model.js';
import type { Fields, ObjectReader } from './k8s-reader.js';
import { dns1123SubdomainProblems, portNameProblems, portNumberProblems } from './k8s-syntax.js';
import { readMetadata, readProtocol, readSelector } from './parse-k8s-meta.js';
import { cidrContainsCidr, formatCidr, IpSyntaxError, parseCidr, type Cidr } from './ip.js';
import { MATCH_EVERYTHING } from './selectors.js';

function readCidr(r: ObjectReader, value: unknown, field: string): Cidr | undefined {
  const text = r.string(value, field);
  if (text === undefined) return undefined;
  try {
    return parseCidr(text);
  } catch (error) {
    if (!(error instanceof IpSyntaxError)) throw error;
    r.error(field, `Invalid value: ${JSON.stringify(text)}: ${error.message}`);
    return undefined;
  }
}

function readIpBlock(r: ObjectReader, fields: Fields, field: string): IPBlock | undefined {
  if (fields['cidr'] === undefined || fields['cidr'] === '') {
    r.required(`${field}.cidr`);
    return undefined;
  }
  const cidr = readCidr(r, fields['cidr'], `${field}.cidr`);
  const except = r.items(fields['except'], `${field}.except`, (item, itemField) => {
    const inner = readCidr(r, item, itemField);
    if (inner === undefined || cidr === undefined) return undefined;
    if (!cidrContainsCidr(cidr, inner) || inner.prefixLength === cidr.prefixLength) {
      r.error(itemField, `Invalid value: ${JSON.stringify(item)}: must be a strict subset of \`cidr\` (${formatCidr(cidr)})`);
      return undefined;
    }
    return formatCidr(inner);
  });
  return cidr === undefined ? undefined : { cidr: formatCidr(cidr), except };
}

function readPeer(r: ObjectReader, value: unknown, field: string): Peer | undefined {
  const fields = r.fields(value, field);
  if (fields === undefined) return undefined;
  const podSelector = readSelector(r, fields['podSelector'], `${field}.podSelector`);
  const namespaceSelector = readSelector(r, fields['namespaceSelector'], `${field}.namespaceSelector`);
  const ipBlockFields = r.fields(fields['ipBlock'], `${field}.ipBlock`);
  if (ipBlockFields !== undefined) {
    if (podSelector !== undefined || namespaceSelector !== undefined) {
      r.error(field, 'Forbidden: may not specify both ipBlock and another peer');
      return undefined;
    }
    const ipBlock = readIpBlock(r, ipBlockFields, `${field}.ipBlock`);
    return ipBlock === undefined ? undefined : { kind: 'ipBlock', ipBlock };
  }
  if (podSelector === undefined && namespaceSelector === undefined) {
    r.error(field, 'Required value: must specify a peer');
    return undefined;
  }
  return { kind: 'pods', ...(podSelector && { podSelector }), ...(namespaceSelector && { namespaceSelector }) };
}

function readPort(r: ObjectReader, value: unknown, field: string): PolicyPort | undefined {
  const fields = r.fields(value, field);
  if (fields === undefined) return undefined;
  const protocol = readProtocol(r, fields['protocol'], `${field}.protocol`);
  const rawPort = fields['port'];
  let port: number | string | undefined;
  if (typeof rawPort === 'string') {
    port = r.check(`${field}.port`, rawPort, portNameProblems(rawPort)) ? rawPort : undefined;
  } else {
    const number = r.integer(rawPort, `${field}.port`);
    port = number !== undefined && r.check(`${field}.port`, number, portNumberProblems(number)) ? number : undefined;
  }
  const endPort = r.integer(fields['endPort'], `${field}.endPort`);
  let validEndPort = true;
  if (endPort !== undefined) {
    if (rawPort === undefined || rawPort === null) {
      r.error(`${field}.port`, 'Required value: when endPort is specified');
      validEndPort = false;
    } else if (typeof rawPort === 'string') {
      r.error(`${field}.endPort`, 'Forbidden: may not be specified when `port` is non-numeric');
      validEndPort = false;
    } else if (typeof port === 'number' && endPort < port) {
      r.error(`${field}.endPort`, `Invalid value: ${endPort}: must be greater than or equal to \`port\``);
      validEndPort = false;
    } else {
      validEndPort = r.check(`${field}.endPort`, endPort, portNumberProblems(endPort));
    }
  }
  const portFailed = rawPort !== undefined && rawPort !== null && port === undefined;
  if (protocol === undefined || portFailed || !validEndPort) return undefined;
  return { protocol, ...(port !== undefined && { port }), ...(endPort !== undefined && { endPort }) };
}

function readRules(r: ObjectReader, value: unknown, field: string, peersKey: 'from' | 'to'): Rule[] {
  return r.items(value, field, (item, itemField) => {
    const fields = r.fields(item, itemField) ?? {};
    return {
      peers: r.items(fields[peersKey], `${itemField}.${peersKey}`, (peer, peerField) => readPeer(r, peer, peerField)),
      ports: r.items(fields['ports'], `${itemField}.ports`, (port, portField) => readPort(r, port, portField)),
    };
  });
}

const POLICY_TYPES: Record<string, Direction> = { Ingress: 'ingress', Egress: 'egress' };

function readPolicyTypes(r: ObjectReader, value: unknown, hasEgressRules: boolean): Direction[] {
  const listed = r.items(value, 'spec.policyTypes', (item, itemField) => {
    const text = r.string(item, itemField);
    if (text === undefined) return undefined;
    const direction = POLICY_TYPES[text];
    if (direction === undefined) r.error(itemField, `Unsupported value: ${JSON.stringify(text)}: supported values: "Egress", "Ingress"`);
    return direction;
  });
  if (listed.length > 2) r.error('spec.policyTypes', 'Invalid value: may not specify more than two policyTypes');
  // The API server's defaults: Ingress always, Egress when there are egress rules.
  if (value === undefined || value === null || (Array.isArray(value) && value.length === 0)) {
    return hasEgressRules ? ['ingress', 'egress'] : ['ingress'];
  }
  return (['ingress', 'egress'] as const).filter((direction) => listed.includes(direction));
}

export function readNetworkPolicy(r: ObjectReader, object: Fields): NetworkPolicy | undefined {
  const errorsBefore = r.errorCount();
  const metadata = readMetadata(r, 'NetworkPolicy', object['metadata'], true, dns1123SubdomainProblems);
  const spec = r.fields(object['spec'], 'spec') ?? {};
  const podSelector = readSelector(r, spec['podSelector'], 'spec.podSelector') ?? MATCH_EVERYTHING;
  const ingress = readRules(r, spec['ingress'], 'spec.ingress', 'from');
  const egress = readRules(r, spec['egress'], 'spec.egress', 'to');
  const policyTypes = readPolicyTypes(r, spec['policyTypes'], egress.length > 0);
  if (metadata === undefined || r.errorCount() > errorsBefore) return undefined;
  return { namespace: metadata.namespace, name: metadata.name, podSelector, policyTypes, ingress, egress };
}
