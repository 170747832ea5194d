// temporal.api.operatorservice.v1.OperatorService: the search attribute calls.
import type { Engine } from '../engine';
import { alreadyExists, invalidArgument, notFound } from '../errors';
import { INDEXED_VALUE_TYPE, SYSTEM_SEARCH_ATTRIBUTES, kindFromIndexedValueType } from '../search-attributes';
import type { Handlers } from './types';

// Names the server registers: besides letters, digits and `_`, also `-` (as in `my-attr`, which
// visibility queries then quote with backticks).
const SEARCH_ATTRIBUTE_NAME = /^[A-Za-z_][A-Za-z0-9_-]*$/;

export function operatorServiceHandlers(engine: Engine): Handlers {
  return {
    AddSearchAttributes: async (r) => {
      const ns = engine.namespaces.get(r.namespace || engine.options.namespace);
      const entries = Object.entries<string>(r.searchAttributes ?? {});
      if (entries.length === 0) throw invalidArgument('SearchAttributes are not set on request.');
      // Validate everything before registering anything, as the server does.
      for (const [name, type] of entries) {
        if (!SEARCH_ATTRIBUTE_NAME.test(name)) throw invalidArgument(`Search attribute name ${name} is invalid.`);
        if (SYSTEM_SEARCH_ATTRIBUTES[name]) throw invalidArgument(`Search attribute ${name} is reserved by system.`);
        const kind = kindFromIndexedValueType(type);
        if (!kind) throw invalidArgument(`Unknown search attribute type ${type} for ${name}.`);
        const existing = ns.searchAttributes.get(name);
        // Re-adding with the same type is a no-op (idempotent setup scripts); another type is not.
        if (existing && existing !== kind)
          throw alreadyExists(`Search attribute ${name} already exists with type ${existing}.`);
      }
      for (const [name, type] of entries) ns.searchAttributes.set(name, kindFromIndexedValueType(type)!);
      return {};
    },
    RemoveSearchAttributes: async (r) => {
      const ns = engine.namespaces.get(r.namespace || engine.options.namespace);
      const names: string[] = r.searchAttributes ?? [];
      for (const name of names) {
        if (SYSTEM_SEARCH_ATTRIBUTES[name])
          throw invalidArgument(`Unable to remove non-custom search attribute ${name}.`);
        if (!ns.searchAttributes.has(name)) throw notFound(`Search attribute ${name} doesn't exist.`);
      }
      for (const name of names) ns.searchAttributes.delete(name);
      return {};
    },
    ListSearchAttributes: async (r) => {
      const ns = engine.namespaces.get(r.namespace || engine.options.namespace);
      const customAttributes: Record<string, string> = {};
      for (const [name, kind] of ns.searchAttributes) customAttributes[name] = INDEXED_VALUE_TYPE[kind];
      const systemAttributes: Record<string, string> = {};
      for (const [name, kind] of Object.entries(SYSTEM_SEARCH_ATTRIBUTES))
        systemAttributes[name] = INDEXED_VALUE_TYPE[kind];
      return { customAttributes, systemAttributes, storageSchema: {} };
    },
  };
}
