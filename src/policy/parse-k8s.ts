// Kubernetes YAML → the ClusterState parts a file can describe. Multi-document YAML and List objects;
// every problem is named by file, object and field, and the caller decides that any error rejects the
// whole input (so nothing half-valid is ever enforced).
import { parseAllDocuments } from 'yaml';
import type { ClusterState, EndpointSlice, Namespace, NetworkPolicy, Pod, Service } from './model.js';
import type { ManifestError, ManifestWarning } from './errors.js';
import { ObjectReader, type Fields } from './k8s-reader.js';
import { readNetworkPolicy } from './parse-networkpolicy.js';
import { NAMESPACE_NAME_LABEL, readEndpointSlice, readNamespace, readPod, readService } from './parse-k8s-workloads.js';

export { NAMESPACE_NAME_LABEL } from './parse-k8s-workloads.js';

export type ManifestState = Omit<ClusterState, 'node'>;

export interface ManifestFile {
  readonly path: string;
  readonly text: string;
}

export interface ParsedManifests {
  readonly state: ManifestState;
  readonly errors: readonly ManifestError[];
  readonly warnings: readonly ManifestWarning[];
}

interface Collected {
  namespaces: Namespace[];
  pods: Pod[];
  policies: NetworkPolicy[];
  services: Service[];
  endpointSlices: EndpointSlice[];
}

type KindReader = {
  readonly apiVersion: string;
  readonly namespaced: boolean;
  readonly read: (r: ObjectReader, object: Fields, into: Collected) => { namespace: string; name: string } | undefined;
};

function collect<T extends { namespace?: string; name: string }>(list: T[]) {
  return (item: T | undefined) => {
    if (item === undefined) return undefined;
    list.push(item);
    return { namespace: item.namespace ?? '', name: item.name };
  };
}

const KINDS: Readonly<Record<string, KindReader>> = {
  Namespace: { apiVersion: 'v1', namespaced: false, read: (r, o, into) => collect(into.namespaces)(readNamespace(r, o)) },
  Pod: { apiVersion: 'v1', namespaced: true, read: (r, o, into) => collect(into.pods)(readPod(r, o)) },
  Service: { apiVersion: 'v1', namespaced: true, read: (r, o, into) => collect(into.services)(readService(r, o)) },
  NetworkPolicy: { apiVersion: 'networking.k8s.io/v1', namespaced: true, read: (r, o, into) => collect(into.policies)(readNetworkPolicy(r, o)) },
  EndpointSlice: { apiVersion: 'discovery.k8s.io/v1', namespaced: true, read: (r, o, into) => collect(into.endpointSlices)(readEndpointSlice(r, o)) },
};

class ManifestParser {
  readonly errors: ManifestError[] = [];
  readonly warnings: ManifestWarning[] = [];
  readonly collected: Collected = { namespaces: [], pods: [], policies: [], services: [], endpointSlices: [] };
  /** 'Kind/ns/name' → file that defined it first. */
  private readonly seen = new Map<string, string>();

  parseFile(file: ManifestFile): void {
    for (const document of parseAllDocuments(file.text)) {
      if (document.errors.length > 0) {
        for (const error of document.errors) this.errors.push({ file: file.path, object: '', field: '', message: `YAML: ${error.message}` });
        continue;
      }
      let value: unknown;
      try {
        value = document.toJS();
      } catch (error) {
        // toJS refuses alias bombs (maxAliasCount) and similar; that is bad input, not a crash.
        this.errors.push({ file: file.path, object: '', field: '', message: `YAML: ${error instanceof Error ? error.message : String(error)}` });
        continue;
      }
      if (value !== null && value !== undefined) this.parseObject(file.path, value, '');
    }
  }

  /** `position` names a List item ('items[3]') so errors before its name is known still point at it. */
  private parseObject(file: string, value: unknown, position: string): void {
    const r = new ObjectReader(file, position, this.errors, this.warnings);
    const object = r.fields(value, '');
    if (object === undefined) return;
    const kind = r.string(object['kind'], 'kind');
    const apiVersion = r.string(object['apiVersion'], 'apiVersion');
    if (kind === undefined) {
      r.required('kind');
      return;
    }
    if (kind === 'List' || kind.endsWith('List')) {
      r.object = kind;
      r.items(object['items'], 'items', (item, itemField) => this.parseObject(file, item, itemField));
      return;
    }
    const reader = KINDS[kind];
    const name = typeof object['metadata'] === 'object' && object['metadata'] !== null ? (object['metadata'] as Fields)['name'] : undefined;
    r.object = `${kind} ${typeof name === 'string' ? name : '<unnamed>'}`;
    if (reader === undefined) {
      r.warn('', `kind ${kind} (${apiVersion ?? 'no apiVersion'}) is not used by moat and was ignored`);
      return;
    }
    if (apiVersion !== reader.apiVersion) {
      r.error('apiVersion', `Unsupported value: ${JSON.stringify(apiVersion ?? null)}: ${kind} must be ${reader.apiVersion}`);
      return;
    }
    const identity = reader.read(r, object, this.collected);
    if (identity === undefined) return;
    const key = `${kind}/${identity.namespace}/${identity.name}`;
    const firstFile = this.seen.get(key);
    if (firstFile !== undefined) r.error('metadata.name', `Duplicate value: ${JSON.stringify(identity.name)}: also defined in ${firstFile}`);
    else this.seen.set(key, file);
  }

  /** Namespaces that objects live in but no Namespace object declares exist with the API server's default label. */
  impliedNamespaces(): Namespace[] {
    const declared = new Set(this.collected.namespaces.map((ns) => ns.name));
    const used = [...this.collected.pods, ...this.collected.policies, ...this.collected.services, ...this.collected.endpointSlices].map((o) => o.namespace);
    return [...new Set(used)].filter((name) => !declared.has(name)).map((name) => ({ name, labels: { [NAMESPACE_NAME_LABEL]: name } }));
  }
}

/** Reads every file; `errors` non-empty means the input as a whole must be rejected. */
export function parseManifests(files: readonly ManifestFile[]): ParsedManifests {
  const parser = new ManifestParser();
  for (const file of files) parser.parseFile(file);
  const { namespaces, pods, policies, services, endpointSlices } = parser.collected;
  return {
    state: { namespaces: [...namespaces, ...parser.impliedNamespaces()], pods, policies, services, endpointSlices },
    errors: parser.errors,
    warnings: parser.warnings,
  };
}
