// Search attribute registry and payload handling. Like the real server, custom attributes must be
// registered (OperatorService.AddSearchAttributes) before a workflow may use them, and values are
// type-checked against the registered kind.
import { invalidArgument } from './errors';
import { type Payload, decodeJsonPayload, payloadMetadataString } from './proto-values';
import type { SearchAttributeKind } from './visibility-query';

/** The indexed value types of temporal.api.enums.v1.IndexedValueType, by kind. */
export const INDEXED_VALUE_TYPE: Record<SearchAttributeKind, string> = {
  Text: 'INDEXED_VALUE_TYPE_TEXT',
  Keyword: 'INDEXED_VALUE_TYPE_KEYWORD',
  Int: 'INDEXED_VALUE_TYPE_INT',
  Double: 'INDEXED_VALUE_TYPE_DOUBLE',
  Bool: 'INDEXED_VALUE_TYPE_BOOL',
  Datetime: 'INDEXED_VALUE_TYPE_DATETIME',
  KeywordList: 'INDEXED_VALUE_TYPE_KEYWORD_LIST',
};

export function kindFromIndexedValueType(t: string | number): SearchAttributeKind | undefined {
  for (const [kind, name] of Object.entries(INDEXED_VALUE_TYPE)) {
    if (name === t) return kind as SearchAttributeKind;
  }
  return undefined;
}

/** System attributes every server knows; they cannot be set by workflows. */
export const SYSTEM_SEARCH_ATTRIBUTES: Record<string, SearchAttributeKind> = {
  WorkflowId: 'Keyword',
  RunId: 'Keyword',
  WorkflowType: 'Keyword',
  ExecutionStatus: 'Keyword',
  StartTime: 'Datetime',
  CloseTime: 'Datetime',
  ExecutionTime: 'Datetime',
  TaskQueue: 'Keyword',
  ExecutionDuration: 'Int',
  HistoryLength: 'Int',
  BuildIds: 'KeywordList',
  TemporalChangeVersion: 'KeywordList',
};

/** The dev server (`temporal server start-dev`) pre-registers these; so does the emulator. */
export const DEFAULT_CUSTOM_SEARCH_ATTRIBUTES: Record<string, SearchAttributeKind> = {
  CustomKeywordField: 'Keyword',
  CustomStringField: 'Text',
  CustomTextField: 'Text',
  CustomIntField: 'Int',
  CustomDoubleField: 'Double',
  CustomBoolField: 'Bool',
  CustomDatetimeField: 'Datetime',
};

/** Attributes the SDK writes itself (patch markers) and that are accepted without registration. */
const SDK_WRITABLE_SYSTEM: Record<string, SearchAttributeKind> = {
  TemporalChangeVersion: 'KeywordList',
  BuildIds: 'KeywordList',
};

export type SearchAttributePayloads = Record<string, Payload>;

function isRemoval(p: Payload): boolean {
  if (!p.data || p.data.length === 0) return true;
  const text = Buffer.from(p.data).toString('utf8').trim();
  return text === 'null' || text === '[]';
}

function checkValue(name: string, kind: SearchAttributeKind, value: unknown): void {
  const values = Array.isArray(value) ? value : [value];
  const ok = values.every((v) => {
    switch (kind) {
      case 'Keyword':
      case 'Text':
      case 'KeywordList':
        return typeof v === 'string';
      case 'Int':
        return typeof v === 'number' && Number.isInteger(v);
      case 'Double':
        return typeof v === 'number';
      case 'Bool':
        return typeof v === 'boolean';
      case 'Datetime':
        return typeof v === 'string' && !Number.isNaN(Date.parse(v));
    }
  });
  if (!ok) {
    throw invalidArgument(`invalid value for search attribute ${name} of type ${kind}: ${JSON.stringify(value)}`);
  }
}

/**
 * Validates search attributes from a start request or an upsert command against the registry.
 * Returns the payloads to store (with the `type` metadata the SDK's typed decoding needs) and the
 * names to remove (empty values).
 */
export function validateSearchAttributes(
  fields: Record<string, Payload> | null | undefined,
  registry: Map<string, SearchAttributeKind>,
): { set: SearchAttributePayloads; remove: string[] } {
  const set: SearchAttributePayloads = {};
  const remove: string[] = [];
  for (const [name, payload] of Object.entries(fields ?? {})) {
    const kind = registry.get(name) ?? SDK_WRITABLE_SYSTEM[name];
    if (!kind) {
      if (SYSTEM_SEARCH_ATTRIBUTES[name]) {
        throw invalidArgument(`system search attribute ${name} is read-only`);
      }
      throw invalidArgument(
        `search attribute ${name} is not defined; register it with OperatorService.AddSearchAttributes (temporal operator search-attribute create)`,
      );
    }
    if (isRemoval(payload)) {
      remove.push(name);
      continue;
    }
    let value: unknown;
    try {
      value = decodeJsonPayload(payload);
    } catch {
      throw invalidArgument(`search attribute ${name} has a value that is not JSON`);
    }
    if (value === undefined) throw invalidArgument(`search attribute ${name} must be json/plain encoded`);
    checkValue(name, kind, value);
    set[name] = {
      metadata: { ...(payload.metadata ?? {}), encoding: Buffer.from('json/plain'), type: Buffer.from(kind) },
      data: payload.data,
    };
  }
  return { set, remove };
}

/** Decoded values for visibility queries: scalars for single-valued kinds, string[] for lists. */
export function decodeSearchAttributes(
  stored: SearchAttributePayloads,
  registry: Map<string, SearchAttributeKind>,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, payload] of Object.entries(stored)) {
    const kind =
      registry.get(name) ??
      SDK_WRITABLE_SYSTEM[name] ??
      (payloadMetadataString(payload, 'type') as SearchAttributeKind);
    let value = decodeJsonPayload(payload);
    if (value === undefined || value === null) continue;
    if (kind === 'KeywordList') {
      out[name] = Array.isArray(value) ? value : [value];
      continue;
    }
    // The untyped (legacy) SDK API sends every value as a one-element array.
    if (Array.isArray(value)) {
      if (value.length === 0) continue;
      value = value.length === 1 ? value[0] : value;
    }
    if (kind === 'Datetime') {
      out[name] = Array.isArray(value) ? value.map((v) => new Date(String(v))) : new Date(String(value));
    } else {
      out[name] = value;
    }
  }
  return out;
}
