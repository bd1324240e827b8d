// The API server's syntax rules for names, label keys/values and port names
// (k8s.io/apimachinery/pkg/util/validation). Each returns the problems found; empty = valid.

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DNS1035_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const QUALIFIED_NAME_PART = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const IANA_SVC_NAME = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/;

function tooLong(value: string, max: number): string[] {
  return value.length > max ? [`must be no more than ${max} characters`] : [];
}

export function dns1123LabelProblems(value: string): string[] {
  if (!DNS1123_LABEL.test(value)) {
    return [...tooLong(value, 63), "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character"];
  }
  return tooLong(value, 63);
}

export function dns1123SubdomainProblems(value: string): string[] {
  if (!DNS1123_SUBDOMAIN.test(value)) {
    return [...tooLong(value, 253), "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character"];
  }
  return tooLong(value, 253);
}

export function dns1035LabelProblems(value: string): string[] {
  if (!DNS1035_LABEL.test(value)) {
    return [...tooLong(value, 63), "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character"];
  }
  return tooLong(value, 63);
}

/** Label and annotation keys: `[prefix/]name`, prefix a DNS subdomain, name ≤63 alphanumerics with -_. inside. */
export function qualifiedNameProblems(value: string): string[] {
  const parts = value.split('/');
  if (parts.length > 2) return ["a qualified name must consist of an optional DNS subdomain prefix and a name separated by a single '/'"];
  const name = parts[parts.length - 1] ?? '';
  const problems: string[] = [];
  if (parts.length === 2) {
    const prefix = parts[0] ?? '';
    if (prefix === '') problems.push('prefix part must be non-empty');
    else problems.push(...dns1123SubdomainProblems(prefix).map((p) => `prefix part ${p}`));
  }
  if (name === '') problems.push('name part must be non-empty');
  else {
    problems.push(...tooLong(name, 63).map((p) => `name part ${p}`));
    if (!QUALIFIED_NAME_PART.test(name)) {
      problems.push("name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character");
    }
  }
  return problems;
}

export function labelValueProblems(value: string): string[] {
  const problems = tooLong(value, 63);
  if (!LABEL_VALUE.test(value)) {
    problems.push("a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character");
  }
  return problems;
}

/** Named ports (IANA_SVC_NAME, RFC 6335): ≤15 chars, lowercase alphanumerics and '-', at least one letter, no '--'. */
export function portNameProblems(value: string): string[] {
  const problems = tooLong(value, 15);
  if (!IANA_SVC_NAME.test(value)) problems.push("must contain only lowercase alphanumeric characters or '-', and start and end with an alphanumeric character");
  if (value.includes('--')) problems.push("must not contain consecutive hyphens");
  if (!/[a-z]/.test(value)) problems.push('must contain at least one letter (a-z)');
  return problems;
}

export function portNumberProblems(value: number): string[] {
  return Number.isInteger(value) && value >= 1 && value <= 65535 ? [] : ['must be between 1 and 65535, inclusive'];
}
