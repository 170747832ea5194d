// Registers the gate's custom search attributes in a namespace at worker start, through the
// OperatorService: identical on Temporal Server, the CLI dev server and the embedded emulator.
// Temporal Cloud does not allow OperatorService registration; there they are created once with
// `tcld` or the Cloud UI, and this check reports what is missing.
import type { Connection } from '@temporalio/client';
import { SearchAttributeType } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { INVOICE_GATE_SEARCH_ATTRIBUTE_KEYS, type GateSearchAttributeKey } from './search-attribute-keys';

export * from './search-attribute-keys';

const IndexedValueType = temporal.api.enums.v1.IndexedValueType;
type IndexedValueType = temporal.api.enums.v1.IndexedValueType;

const INDEXED_VALUE_TYPE: Record<SearchAttributeType, IndexedValueType> = {
  [SearchAttributeType.TEXT]: IndexedValueType.INDEXED_VALUE_TYPE_TEXT,
  [SearchAttributeType.KEYWORD]: IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
  [SearchAttributeType.INT]: IndexedValueType.INDEXED_VALUE_TYPE_INT,
  [SearchAttributeType.DOUBLE]: IndexedValueType.INDEXED_VALUE_TYPE_DOUBLE,
  [SearchAttributeType.BOOL]: IndexedValueType.INDEXED_VALUE_TYPE_BOOL,
  [SearchAttributeType.DATETIME]: IndexedValueType.INDEXED_VALUE_TYPE_DATETIME,
  [SearchAttributeType.KEYWORD_LIST]: IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD_LIST,
};

/** Name of a key's type as the Temporal CLI spells it (`--type Keyword`). */
export function cliTypeName(type: SearchAttributeType): string {
  const names: Record<SearchAttributeType, string> = {
    TEXT: 'Text',
    KEYWORD: 'Keyword',
    INT: 'Int',
    DOUBLE: 'Double',
    BOOL: 'Bool',
    DATETIME: 'Datetime',
    KEYWORD_LIST: 'KeywordList',
  };
  return names[type];
}

export class SearchAttributeRegistrationError extends Error {
  override name = 'SearchAttributeRegistrationError';
}

export interface EnsureSearchAttributesResult {
  /** already registered with the right type */
  existing: string[];
  /** registered by this call (or concurrently by another worker) */
  added: string[];
}

const GRPC_ALREADY_EXISTS = 6;

function grpcCode(err: unknown): number | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'number' ? code : undefined;
}

/** protobufjs may hand enums back as numbers or names depending on how the response was decoded. */
function toIndexedValueType(value: unknown): IndexedValueType | undefined {
  if (typeof value === 'number') return value as IndexedValueType;
  if (typeof value === 'string') return IndexedValueType[value as keyof typeof IndexedValueType];
  return undefined;
}

/**
 * Makes sure `keys` (default: the gate's four) exist in `namespace`; adds the missing ones.
 * Idempotent and safe when several workers start at once: ALREADY_EXISTS from a concurrent
 * registration is accepted once a re-list shows the attribute with the expected type.
 * Throws SearchAttributeRegistrationError when an attribute exists with another type, or when
 * the server refuses registration (e.g. Temporal Cloud).
 */
export async function ensureSearchAttributes(
  connection: Connection,
  namespace: string,
  keys: ReadonlyArray<GateSearchAttributeKey> = INVOICE_GATE_SEARCH_ATTRIBUTE_KEYS,
): Promise<EnsureSearchAttributesResult> {
  const list = async (): Promise<Map<string, IndexedValueType | undefined>> => {
    const response = await connection.operatorService.listSearchAttributes({ namespace });
    const all = new Map<string, IndexedValueType | undefined>();
    for (const [name, type] of Object.entries(response.systemAttributes ?? {})) all.set(name, toIndexedValueType(type));
    for (const [name, type] of Object.entries(response.customAttributes ?? {})) all.set(name, toIndexedValueType(type));
    return all;
  };

  const check = (registered: Map<string, IndexedValueType | undefined>) => {
    const present: string[] = [];
    const missing: Array<GateSearchAttributeKey> = [];
    for (const key of keys) {
      if (!registered.has(key.name)) {
        missing.push(key);
        continue;
      }
      const actual = registered.get(key.name);
      if (actual !== INDEXED_VALUE_TYPE[key.type]) {
        throw new SearchAttributeRegistrationError(
          `search attribute ${key.name} exists in namespace ${namespace} with type ` +
            `${actual === undefined ? 'unknown' : IndexedValueType[actual]}, expected ${cliTypeName(key.type)}`,
        );
      }
      present.push(key.name);
    }
    return { present, missing };
  };

  const before = check(await list());
  if (before.missing.length === 0) return { existing: before.present, added: [] };

  const add = (batch: Array<GateSearchAttributeKey>) =>
    connection.operatorService.addSearchAttributes({
      namespace,
      searchAttributes: Object.fromEntries(batch.map((k) => [k.name, INDEXED_VALUE_TYPE[k.type]])),
    });

  try {
    await add(before.missing);
  } catch (err) {
    if (grpcCode(err) !== GRPC_ALREADY_EXISTS) throw registrationFailed(namespace, before.missing, err);
    // Another worker won part of the race: add what is still missing, one at a time.
    const { missing } = check(await list());
    for (const key of missing) {
      try {
        await add([key]);
      } catch (inner) {
        if (grpcCode(inner) !== GRPC_ALREADY_EXISTS) throw registrationFailed(namespace, [key], inner);
      }
    }
  }

  const after = check(await list());
  if (after.missing.length > 0) {
    throw new SearchAttributeRegistrationError(
      `search attributes ${after.missing.map((k) => k.name).join(', ')} are still missing in namespace ${namespace} after registration`,
    );
  }
  return { existing: before.present, added: before.missing.map((k) => k.name) };
}

function registrationFailed(
  namespace: string,
  keys: Array<GateSearchAttributeKey>,
  cause: unknown,
): SearchAttributeRegistrationError {
  const commands = keys
    .map(
      (k) =>
        `temporal operator search-attribute create --namespace ${namespace} --name ${k.name} --type ${cliTypeName(k.type)}`,
    )
    .join('; ');
  const error = new SearchAttributeRegistrationError(
    `cannot register search attributes in namespace ${namespace}: ${(cause as Error)?.message ?? String(cause)}. ` +
      `Register them once by hand (${commands}; on Temporal Cloud use tcld or the Cloud UI).`,
  );
  (error as { cause?: unknown }).cause = cause;
  return error;
}
