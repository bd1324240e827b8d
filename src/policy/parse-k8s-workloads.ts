// Namespace, Pod, Service and EndpointSlice: the fields moat uses, validated like the API server does.
import type { ContainerPort, EndpointSlice, Namespace, Pod, Service, ServicePort } from './model.js';
import type { Fields, ObjectReader } from './k8s-reader.js';
import { dns1035LabelProblems, dns1123LabelProblems, dns1123SubdomainProblems, portNameProblems, portNumberProblems } from './k8s-syntax.js';
import { readIp, readLabels, readMetadata, readProtocol } from './parse-k8s-meta.js';
import { parseIp } from './ip.js';

/** The label the API server puts on every namespace. */
export const NAMESPACE_NAME_LABEL = 'kubernetes.io/metadata.name';

export function readNamespace(r: ObjectReader, object: Fields): Namespace | undefined {
  const errorsBefore = r.errorCount();
  const metadata = readMetadata(r, 'Namespace', object['metadata'], false, dns1123LabelProblems);
  if (metadata === undefined || r.errorCount() > errorsBefore) return undefined;
  return { name: metadata.name, labels: { ...metadata.labels, [NAMESPACE_NAME_LABEL]: metadata.name } };
}

function readPortNumber(r: ObjectReader, value: unknown, field: string, required: boolean): number | undefined {
  const port = r.integer(value, field);
  if (port === undefined) {
    if (required && (value === undefined || value === null)) r.required(field);
    return undefined;
  }
  return r.check(field, port, portNumberProblems(port)) ? port : undefined;
}

function readContainerPorts(r: ObjectReader, spec: Fields, seenNames: Set<string>): ContainerPort[] {
  const ports: ContainerPort[] = [];
  r.items(spec['containers'], 'spec.containers', (item, containerField) => {
    const container = r.fields(item, containerField) ?? {};
    const name = r.string(container['name'], `${containerField}.name`);
    if (name === undefined) r.required(`${containerField}.name`);
    else r.check(`${containerField}.name`, name, dns1123LabelProblems(name));
    ports.push(...r.items(container['ports'], `${containerField}.ports`, (portItem, portField) => {
      const fields = r.fields(portItem, portField) ?? {};
      const port = readPortNumber(r, fields['containerPort'], `${portField}.containerPort`, true);
      const protocol = readProtocol(r, fields['protocol'], `${portField}.protocol`);
      const portName = r.string(fields['name'], `${portField}.name`);
      if (portName !== undefined && r.check(`${portField}.name`, portName, portNameProblems(portName))) {
        if (seenNames.has(portName)) r.error(`${portField}.name`, `Duplicate value: ${JSON.stringify(portName)}`);
        seenNames.add(portName);
      }
      if (port === undefined || protocol === undefined) return undefined;
      return { port, protocol, ...(portName !== undefined && { name: portName }) };
    }));
    return undefined;
  });
  return ports;
}

/** status.podIPs (first = status.podIP), at most one address per family. */
function readPodIps(r: ObjectReader, status: Fields): string[] {
  const listed = r.items(status['podIPs'], 'status.podIPs', (item, itemField) => readIp(r, (r.fields(item, itemField) ?? {})['ip'], `${itemField}.ip`));
  const single = readIp(r, status['podIP'], 'status.podIP');
  if (single !== undefined && listed.length > 0 && listed[0] !== single) {
    r.error('status.podIPs[0].ip', `Invalid value: ${JSON.stringify(listed[0])}: must match status.podIP (${single})`);
  }
  const families = listed.map((ip) => parseIp(ip).family);
  if (listed.length > 2 || new Set(families).size !== families.length) {
    r.error('status.podIPs', 'Invalid value: must have at most one IPv4 and one IPv6 address');
  }
  return listed.length > 0 ? listed : single !== undefined ? [single] : [];
}

export function readPod(r: ObjectReader, object: Fields): Pod | undefined {
  const errorsBefore = r.errorCount();
  const metadata = readMetadata(r, 'Pod', object['metadata'], true, dns1123SubdomainProblems);
  const spec = r.fields(object['spec'], 'spec');
  if (spec === undefined) {
    r.required('spec');
    return undefined;
  }
  const containers = r.list(spec['containers'], 'spec.containers');
  if (containers === undefined || containers.length === 0) r.required('spec.containers');
  const ports = readContainerPorts(r, spec, new Set());
  const hostNetwork = r.boolean(spec['hostNetwork'], 'spec.hostNetwork') ?? false;
  const nodeName = r.string(spec['nodeName'], 'spec.nodeName');
  if (nodeName !== undefined) r.check('spec.nodeName', nodeName, dns1123SubdomainProblems(nodeName));
  const ips = readPodIps(r, r.fields(object['status'], 'status') ?? {});
  if (metadata === undefined || r.errorCount() > errorsBefore) return undefined;
  return {
    namespace: metadata.namespace,
    name: metadata.name,
    labels: metadata.labels,
    annotations: metadata.annotations,
    ips,
    hostNetwork,
    ports,
    ...(nodeName !== undefined && { nodeName }),
  };
}

function readTargetPort(r: ObjectReader, value: unknown, field: string): number | string | undefined {
  if (typeof value === 'string') return r.check(field, value, portNameProblems(value)) ? value : undefined;
  return readPortNumber(r, value, field, false);
}

function readServicePorts(r: ObjectReader, spec: Fields): ServicePort[] {
  const count = r.list(spec['ports'], 'spec.ports')?.length ?? 0;
  const names = new Set<string>();
  return r.items(spec['ports'], 'spec.ports', (item, field) => {
    const fields = r.fields(item, field) ?? {};
    const name = r.string(fields['name'], `${field}.name`);
    if (name === undefined && count > 1) r.error(`${field}.name`, 'Required value: when there is more than one port');
    if (name !== undefined && r.check(`${field}.name`, name, dns1123LabelProblems(name))) {
      if (names.has(name)) r.error(`${field}.name`, `Duplicate value: ${JSON.stringify(name)}`);
      names.add(name);
    }
    const port = readPortNumber(r, fields['port'], `${field}.port`, true);
    const protocol = readProtocol(r, fields['protocol'], `${field}.protocol`);
    const targetPort = readTargetPort(r, fields['targetPort'], `${field}.targetPort`);
    const nodePort = readPortNumber(r, fields['nodePort'], `${field}.nodePort`, false);
    if (port === undefined || protocol === undefined) return undefined;
    return {
      port,
      protocol,
      ...(name !== undefined && { name }),
      ...(targetPort !== undefined && { targetPort }),
      ...(nodePort !== undefined && { nodePort }),
    };
  });
}

function readClusterIps(r: ObjectReader, spec: Fields): string[] {
  const listed = r.items(spec['clusterIPs'], 'spec.clusterIPs', (item, field) => (item === 'None' ? undefined : readIp(r, item, field)));
  const single = spec['clusterIP'] === 'None' || spec['clusterIP'] === '' ? undefined : readIp(r, spec['clusterIP'], 'spec.clusterIP');
  if (single !== undefined && listed.length > 0 && listed[0] !== single) {
    r.error('spec.clusterIPs[0]', `Invalid value: ${JSON.stringify(listed[0])}: must match spec.clusterIP (${single})`);
  }
  return listed.length > 0 ? listed : single !== undefined ? [single] : [];
}

export function readService(r: ObjectReader, object: Fields): Service | undefined {
  const errorsBefore = r.errorCount();
  const metadata = readMetadata(r, 'Service', object['metadata'], true, dns1035LabelProblems);
  const spec = r.fields(object['spec'], 'spec') ?? {};
  const clusterIPs = readClusterIps(r, spec);
  const ports = readServicePorts(r, spec);
  const selector = spec['selector'] === undefined || spec['selector'] === null ? undefined : readLabels(r, spec['selector'], 'spec.selector');
  if (metadata === undefined || r.errorCount() > errorsBefore) return undefined;
  return { namespace: metadata.namespace, name: metadata.name, clusterIPs, ports, ...(selector !== undefined && { selector }) };
}

const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';
const ADDRESS_FAMILIES: Record<string, 4 | 6 | 'FQDN'> = { IPv4: 4, IPv6: 6, FQDN: 'FQDN' };

export function readEndpointSlice(r: ObjectReader, object: Fields): EndpointSlice | undefined {
  const errorsBefore = r.errorCount();
  const metadata = readMetadata(r, 'EndpointSlice', object['metadata'], true, dns1123SubdomainProblems);
  const addressTypeText = r.string(object['addressType'], 'addressType');
  const family = addressTypeText === undefined ? undefined : ADDRESS_FAMILIES[addressTypeText];
  if (addressTypeText === undefined) r.required('addressType');
  else if (family === undefined) r.error('addressType', `Unsupported value: ${JSON.stringify(addressTypeText)}: supported values: "FQDN", "IPv4", "IPv6"`);
  if (family === 'FQDN') r.warn('addressType', 'FQDN endpoints are not enforced by address; their addresses are ignored');
  const addresses = r.items(object['endpoints'], 'endpoints', (item, field) => {
    const endpoint = r.fields(item, field) ?? {};
    const conditions = r.fields(endpoint['conditions'], `${field}.conditions`) ?? {};
    const list = r.list(endpoint['addresses'], `${field}.addresses`);
    if (list === undefined || list.length === 0) r.required(`${field}.addresses`);
    if (family === 'FQDN' || family === undefined || conditions['ready'] === false) return undefined;
    return r.items(endpoint['addresses'], `${field}.addresses`, (address, addressField) => readIp(r, address, addressField, family));
  }).flat();
  const ports = r.items(object['ports'], 'ports', (item, field) => {
    const fields = r.fields(item, field) ?? {};
    const name = r.string(fields['name'], `${field}.name`);
    if (name !== undefined && name !== '') r.check(`${field}.name`, name, dns1123LabelProblems(name));
    const protocol = readProtocol(r, fields['protocol'], `${field}.protocol`);
    const port = readPortNumber(r, fields['port'], `${field}.port`, false);
    if (port === undefined) {
      if (fields['port'] === undefined || fields['port'] === null) r.warn(`${field}.port`, 'a port without a number (all ports) is not represented');
      return undefined;
    }
    if (protocol === undefined) return undefined;
    return { port, protocol, ...(name !== undefined && name !== '' && { name }) };
  });
  if (metadata === undefined || r.errorCount() > errorsBefore) return undefined;
  const serviceName = metadata.labels[SERVICE_NAME_LABEL] ?? '';
  return { namespace: metadata.namespace, name: metadata.name, serviceName, addresses, ports };
}
