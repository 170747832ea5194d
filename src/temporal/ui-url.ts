// Where the Temporal Web UI is, if anywhere: TEMPORAL_UI_URL, or the dev server's default next to a
// real Temporal. The embedded engine has no Web UI, so a link there would lead nowhere: none.

/** `temporal server start-dev` serves its Web UI here. */
export const DEFAULT_TEMPORAL_UI_URL = 'http://localhost:8233';

export function temporalUiUrl(temporal: { uiUrl: string | undefined; embedded: boolean }): string | undefined {
  return temporal.uiUrl ?? (temporal.embedded ? undefined : DEFAULT_TEMPORAL_UI_URL);
}

/** A workflow (and, given, one of its runs) in the Web UI. */
export function temporalWorkflowUrl(uiUrl: string, namespace: string, workflowId: string, runId?: string): string {
  const base = `${uiUrl.replace(/\/+$/, '')}/namespaces/${encodeURIComponent(namespace)}/workflows/${encodeURIComponent(workflowId)}`;
  return runId ? `${base}/${encodeURIComponent(runId)}/history` : base;
}
