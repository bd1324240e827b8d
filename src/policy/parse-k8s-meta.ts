// Pieces shared by every kind: metadata, label maps, label selectors, protocols, IP lists.
import type { LabelSelector, LabelSelectorRequirement, Protocol } from './model.js';
import type { ObjectReader } from './k8s-reader.js';
import { dns1123LabelProblems, labelValueProblems, qualifiedNameProblems } from './k8s-syntax.js';
import { canonicalIp, IpSyntaxError, parseIp, type IpFamily } from './ip.js';

export interface Metadata {
  readonly name: string;
  readonly namespace: string;
  readonly labels: Record<string, string>;
  readonly annotations: Record<string, string>;
}

const ANNOTATIONS_MAX_BYTES = 256 * 1024;

export function readLabels(r: ObjectReader, value: unknown, field: string): Record<string, string> {
  const labels = r.stringMap(value, field);
  for (const [key, labelValue] of Object.entries(labels)) {
    r.check(field, key, qualifiedNameProblems(key));
    r.check(`${field}[${key}]`, labelValue, labelValueProblems(labelValue));
  }
  return labels;
}

function readAnnotations(r: ObjectReader, value: unknown, field: string): Record<string, string> {
  const annotations = r.stringMap(value, field);
  let bytes = 0;
  for (const [key, text] of Object.entries(annotations)) {
    r.check(field, key, qualifiedNameProblems(key));
    bytes += new TextEncoder().encode(key + text).length;
  }
  if (bytes > ANNOTATIONS_MAX_BYTES) r.error(field, `Too long: must have at most ${ANNOTATIONS_MAX_BYTES} bytes`);
  return annotations;
}

/**
 * Reads metadata and renames the reader's object to 'Kind ns/name'. `nameProblems` is the kind's
 * name rule; namespaced kinds default their namespace to "default" like kubectl.
 */
export function readMetadata(r: ObjectReader, kind: string, value: unknown, namespaced: boolean, nameProblems: (name: string) => string[]): Metadata | undefined {
  const meta = r.fields(value, 'metadata') ?? {};
  const name = r.string(meta['name'], 'metadata.name') ?? '';
  const namespace = namespaced ? (r.string(meta['namespace'], 'metadata.namespace') ?? 'default') : '';
  r.object = namespaced ? `${kind} ${namespace}/${name || '<unnamed>'}` : `${kind} ${name || '<unnamed>'}`;
  let valid = true;
  if (name === '') {
    r.error('metadata.name', meta['generateName'] !== undefined ? 'Required value: generateName is not supported, give the object a name' : 'Required value');
    valid = false;
  } else {
    valid = r.check('metadata.name', name, nameProblems(name)) && valid;
  }
  if (namespaced) valid = r.check('metadata.namespace', namespace, dns1123LabelProblems(namespace)) && valid;
  const labels = readLabels(r, meta['labels'], 'metadata.labels');
  const annotations = readAnnotations(r, meta['annotations'], 'metadata.annotations');
  return valid ? { name, namespace, labels, annotations } : undefined;
}

const OPERATORS: readonly LabelSelectorRequirement['operator'][] = ['In', 'NotIn', 'Exists', 'DoesNotExist'];

function readRequirement(r: ObjectReader, value: unknown, field: string): LabelSelectorRequirement | undefined {
  const fields = r.fields(value, field);
  if (fields === undefined) return undefined;
  const key = r.string(fields['key'], `${field}.key`);
  const operator = r.string(fields['operator'], `${field}.operator`);
  const values = r.items(fields['values'], `${field}.values`, (item, itemField) => {
    const text = r.string(item, itemField);
    if (text !== undefined) r.check(itemField, text, labelValueProblems(text));
    return text;
  });
  if (key === undefined) r.required(`${field}.key`);
  else r.check(`${field}.key`, key, qualifiedNameProblems(key));
  if (operator === undefined) {
    r.required(`${field}.operator`);
    return undefined;
  }
  if (!OPERATORS.includes(operator as LabelSelectorRequirement['operator'])) {
    r.error(`${field}.operator`, `Unsupported value: ${JSON.stringify(operator)}: supported values: ${OPERATORS.map((o) => `"${o}"`).join(', ')}`);
    return undefined;
  }
  const needsValues = operator === 'In' || operator === 'NotIn';
  if (needsValues && values.length === 0) r.error(`${field}.values`, `Required value: must be specified when \`operator\` is 'In' or 'NotIn'`);
  if (!needsValues && values.length > 0) r.error(`${field}.values`, `Forbidden: may not be specified when \`operator\` is 'Exists' or 'DoesNotExist'`);
  if (key === undefined) return undefined;
  return { key, operator: operator as LabelSelectorRequirement['operator'], values };
}

/** A metav1.LabelSelector; undefined when the field is absent. */
export function readSelector(r: ObjectReader, value: unknown, field: string): LabelSelector | undefined {
  const fields = r.fields(value, field);
  if (fields === undefined) return undefined;
  return {
    matchLabels: readLabels(r, fields['matchLabels'], `${field}.matchLabels`),
    matchExpressions: r.items(fields['matchExpressions'], `${field}.matchExpressions`, (item, itemField) => readRequirement(r, item, itemField)),
  };
}

const PROTOCOLS: readonly Protocol[] = ['TCP', 'UDP', 'SCTP'];

/** protocol field: TCP when absent. */
export function readProtocol(r: ObjectReader, value: unknown, field: string): Protocol | undefined {
  const text = r.string(value, field);
  if (text === undefined) return value === undefined || value === null ? 'TCP' : undefined;
  if (PROTOCOLS.includes(text as Protocol)) return text as Protocol;
  r.error(field, `Unsupported value: ${JSON.stringify(text)}: supported values: "SCTP", "TCP", "UDP"`);
  return undefined;
}

/** One IP address in canonical form, or an error on `field`. */
export function readIp(r: ObjectReader, value: unknown, field: string, family?: IpFamily): string | undefined {
  const text = r.string(value, field);
  if (text === undefined) return undefined;
  try {
    const address = parseIp(text);
    if (family !== undefined && address.family !== family) {
      r.error(field, `Invalid value: ${JSON.stringify(text)}: must be an IPv${family} address`);
      return undefined;
    }
    return canonicalIp(text);
  } catch (error) {
    if (!(error instanceof IpSyntaxError)) throw error;
    r.error(field, `Invalid value: ${JSON.stringify(text)}: ${error.message}`);
    return undefined;
  }
}
