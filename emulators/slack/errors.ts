// A Web API error as Slack answers it: HTTP 200 with `{ ok: false, error, ...extra }`.
export class SlackApiError extends Error {
  constructor(
    readonly error: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(error);
  }
}
