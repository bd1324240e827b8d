// Kubernetes label selector semantics (apimachinery labels.Selector), used by the evaluator and compiler.
import type { LabelSelector, LabelSelectorRequirement, Labels } from './model.js';

/** The empty selector: matches every label set. */
export const MATCH_EVERYTHING: LabelSelector = Object.freeze({ matchLabels: Object.freeze({}), matchExpressions: Object.freeze([]) });

function hasLabel(labels: Labels, key: string): boolean {
  return Object.hasOwn(labels, key);
}

export function requirementMatches(requirement: LabelSelectorRequirement, labels: Labels): boolean {
  const present = hasLabel(labels, requirement.key);
  switch (requirement.operator) {
    case 'In':
      return present && requirement.values.includes(labels[requirement.key] as string);
    case 'NotIn':
      // As in Kubernetes: a missing label is "not in" any set.
      return !present || !requirement.values.includes(labels[requirement.key] as string);
    case 'Exists':
      return present;
    case 'DoesNotExist':
      return !present;
  }
}

/** matchLabels AND every matchExpression; the empty selector matches everything. */
export function selectorMatches(selector: LabelSelector, labels: Labels): boolean {
  for (const [key, value] of Object.entries(selector.matchLabels)) {
    if (!hasLabel(labels, key) || labels[key] !== value) return false;
  }
  return selector.matchExpressions.every((requirement) => requirementMatches(requirement, labels));
}

export function isEmptySelector(selector: LabelSelector): boolean {
  return Object.keys(selector.matchLabels).length === 0 && selector.matchExpressions.length === 0;
}

/** Every label key the selector looks at, sorted and unique (the labels that can change its answer). */
export function selectorLabelKeys(selector: LabelSelector): string[] {
  const keys = new Set<string>(Object.keys(selector.matchLabels));
  for (const requirement of selector.matchExpressions) keys.add(requirement.key);
  return [...keys].sort();
}
