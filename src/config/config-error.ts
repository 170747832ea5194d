// One error type for every configuration problem, so start-up can print it and exit non-zero.

export interface ConfigIssue {
  /** The environment variable (e.g. `PORT`) or config-file path (e.g. `ledger.columns.value`). */
  variable: string;
  message: string;
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';

  constructor(
    readonly issues: ConfigIssue[],
    heading = 'Invalid configuration',
  ) {
    super(`${heading}:\n${issues.map((i) => `  - ${i.variable}: ${i.message}`).join('\n')}`);
  }
}
