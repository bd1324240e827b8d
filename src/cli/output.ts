// Output for people by default, JSON for machines with `-o json`. Commands describe results once.
export type OutputFormat = 'text' | 'json';

export interface Output {
  result(data: unknown, text: () => string): void;
  errors(messages: readonly string[]): void;
  warnings(messages: readonly string[]): void;
}

export function createOutput(format: OutputFormat, stdout = process.stdout, stderr = process.stderr): Output {
  return {
    result(data, text) {
      stdout.write(format === 'json' ? `${JSON.stringify(data, null, 2)}\n` : `${text()}\n`);
    },
    errors(messages) {
      if (format === 'json') stdout.write(`${JSON.stringify({ errors: messages }, null, 2)}\n`);
      for (const m of messages) stderr.write(`error: ${m}\n`);
    },
    warnings(messages) {
      for (const m of messages) stderr.write(`warning: ${m}\n`);
    },
  };
}
