// Temporal visibility ("list filter") queries: the SQL-like subset the SDK, CLI and Web UI send to
// ListWorkflowExecutions / CountWorkflowExecutions, compiled to a predicate over in-memory records.
//
// Semantics follow Temporal Server's SQL visibility store:
// - a comparison with a missing attribute (or a null CloseTime) is UNKNOWN, as in SQL, so
//   `Attr != 'x'` does not match runs without Attr; only `IS NULL` finds those. NOT/AND/OR use
//   three-valued logic and a record matches only when the whole expression is TRUE;
// - Keyword: exact, ordered string comparison, STARTS_WITH; KeywordList: `=`/`IN` are membership;
//   Text: `=` matches when every word of the value occurs in the text (case-insensitive);
//   Int/Double numeric; Datetime from RFC3339 strings (or integer nanoseconds) at nanosecond precision;
// - error messages match the server's ("invalid query: ..."), the emulator returns them as
//   INVALID_ARGUMENT unchanged.
// Imports nothing: the emulator must not depend on src/.

export interface VisibilityRecord {
  workflowId: string;
  runId: string;
  workflowType: string;
  executionStatus: 'Running' | 'Completed' | 'Failed' | 'Canceled' | 'Terminated' | 'ContinuedAsNew' | 'TimedOut';
  startTime: Date;
  closeTime: Date | null;
  executionTime: Date;
  taskQueue: string;
  /** decoded: string | number | boolean | Date | string[] */
  searchAttributes: Record<string, unknown>;
}

export type SearchAttributeKind = 'Keyword' | 'Text' | 'Int' | 'Double' | 'Bool' | 'Datetime' | 'KeywordList';

export class VisibilityQueryError extends Error {
  override name = 'VisibilityQueryError';
}

export interface CompiledVisibilityQuery {
  matches(record: VisibilityRecord): boolean;
  orderBy: Array<{ field: string; direction: 'ASC' | 'DESC' }>;
  /**
   * `GROUP BY ExecutionStatus` (the only grouping the server allows; the Web UI sends it to
   * CountWorkflowExecutions). Empty when absent. List calls should reject a non-empty groupBy.
   */
  groupBy: string[];
}

const MALFORMED = 'malformed SQL query';
const NOT_SUPPORTED = 'operation is not supported';
const INVALID_EXPRESSION = 'invalid expression';

function queryError(message: string): VisibilityQueryError {
  return new VisibilityQueryError(`invalid query: ${message}`);
}

// ---------------------------------------------------------------------------------------------
// Attributes

const EXECUTION_STATUSES = [
  'Running',
  'Completed',
  'Failed',
  'Canceled',
  'Terminated',
  'ContinuedAsNew',
  'TimedOut',
] as const;

/** Server enum names: INDEXED_VALUE_TYPE_KEYWORD ... as printed in error messages. */
const KIND_ENUM_NAME: Record<SearchAttributeKind, string> = {
  Keyword: 'INDEXED_VALUE_TYPE_KEYWORD',
  Text: 'INDEXED_VALUE_TYPE_TEXT',
  Int: 'INDEXED_VALUE_TYPE_INT',
  Double: 'INDEXED_VALUE_TYPE_DOUBLE',
  Bool: 'INDEXED_VALUE_TYPE_BOOL',
  Datetime: 'INDEXED_VALUE_TYPE_DATETIME',
  KeywordList: 'INDEXED_VALUE_TYPE_KEYWORD_LIST',
};

type Getter = (record: VisibilityRecord) => unknown;

interface Column {
  name: string;
  kind: SearchAttributeKind;
  get: Getter;
}

const SYSTEM_COLUMNS: Record<string, { kind: SearchAttributeKind; get: Getter }> = {
  WorkflowId: { kind: 'Keyword', get: (r) => r.workflowId },
  RunId: { kind: 'Keyword', get: (r) => r.runId },
  WorkflowType: { kind: 'Keyword', get: (r) => r.workflowType },
  ExecutionStatus: { kind: 'Keyword', get: (r) => r.executionStatus },
  StartTime: { kind: 'Datetime', get: (r) => r.startTime },
  CloseTime: { kind: 'Datetime', get: (r) => r.closeTime },
  ExecutionTime: { kind: 'Datetime', get: (r) => r.executionTime },
  TaskQueue: { kind: 'Keyword', get: (r) => r.taskQueue },
  // Written by the server (BuildIds) and the SDK (patch markers), queryable like custom attributes.
  BuildIds: { kind: 'KeywordList', get: (r) => r.searchAttributes.BuildIds },
  TemporalChangeVersion: { kind: 'KeywordList', get: (r) => r.searchAttributes.TemporalChangeVersion },
};

function resolveColumn(name: string, custom: Record<string, SearchAttributeKind>): Column {
  if (Object.prototype.hasOwnProperty.call(custom, name)) {
    const kind = custom[name];
    return { name, kind, get: (r) => r.searchAttributes[name] };
  }
  const system = SYSTEM_COLUMNS[name];
  if (system) return { name, ...system };
  throw queryError(`${INVALID_EXPRESSION}: column name '${name}' is not a valid search attribute`);
}

// ---------------------------------------------------------------------------------------------
// Tokens

type TokenType = 'ident' | 'quotedIdent' | 'string' | 'number' | 'op' | 'punct' | 'eof';
interface Token {
  type: TokenType;
  text: string;
  /** 0-based offset of the token in the query */
  pos: number;
  /** offset just after the token */
  end: number;
}

const ESCAPES: Record<string, string> = { n: '\n', t: '\t', r: '\r', '0': '\0', b: '\b', Z: '\x1a' };

function tokenize(query: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  const syntaxError = (at: number, near: string) =>
    queryError(`${MALFORMED}: syntax error at position ${at + 1} near '${near}'`);
  while (i < query.length) {
    const c = query[i];
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    const start = i;
    if (c === "'" || c === '"' || c === '`') {
      const quote = c;
      let value = '';
      i++;
      let closed = false;
      while (i < query.length) {
        const ch = query[i];
        if (ch === '\\' && quote !== '`' && i + 1 < query.length) {
          const next = query[i + 1];
          value += ESCAPES[next] ?? next;
          i += 2;
          continue;
        }
        if (ch === quote) {
          if (query[i + 1] === quote) {
            value += quote;
            i += 2;
            continue;
          }
          i++;
          closed = true;
          break;
        }
        value += ch;
        i++;
      }
      if (!closed) throw syntaxError(query.length - 1, query.slice(start));
      tokens.push({ type: quote === '`' ? 'quotedIdent' : 'string', text: value, pos: start, end: i });
      continue;
    }
    const number = /^(?:\d+\.?\d*(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?)/.exec(query.slice(i));
    if (number) {
      const after = query[i + number[0].length];
      if (after !== undefined && /[A-Za-z_]/.test(after)) {
        // 12abc: MySQL treats digits followed by letters as an identifier
        const ident = /^[A-Za-z0-9_]+/.exec(query.slice(i))![0];
        tokens.push({ type: 'ident', text: ident, pos: start, end: i + ident.length });
        i += ident.length;
        continue;
      }
      tokens.push({ type: 'number', text: number[0], pos: start, end: i + number[0].length });
      i += number[0].length;
      continue;
    }
    const ident = /^[A-Za-z_][A-Za-z0-9_]*/.exec(query.slice(i));
    if (ident) {
      tokens.push({ type: 'ident', text: ident[0], pos: start, end: i + ident[0].length });
      i += ident[0].length;
      continue;
    }
    const op = /^(?:<=>|<=|>=|<>|!=|=|<|>)/.exec(query.slice(i));
    if (op) {
      if (op[0] === '<=>') throw syntaxError(i, op[0]);
      tokens.push({ type: 'op', text: op[0] === '<>' ? '!=' : op[0], pos: start, end: i + op[0].length });
      i += op[0].length;
      continue;
    }
    if (c === '(' || c === ')' || c === ',' || c === '-' || c === '+') {
      tokens.push({ type: 'punct', text: c, pos: start, end: i + 1 });
      i++;
      continue;
    }
    throw syntaxError(i, query.slice(i, i + 20));
  }
  tokens.push({ type: 'eof', text: '', pos: query.length, end: query.length });
  return tokens;
}

// ---------------------------------------------------------------------------------------------
// Syntax tree

type Literal =
  | { type: 'string'; value: string; raw: string }
  | { type: 'int'; value: number; raw: string }
  | { type: 'float'; value: number; raw: string }
  | { type: 'bool'; value: boolean; raw: string };

type ComparisonOp = '=' | '!=' | '<' | '<=' | '>' | '>=' | 'in' | 'not in' | 'starts_with' | 'not starts_with';

type Expr =
  | { type: 'and' | 'or'; left: Expr; right: Expr }
  | { type: 'not'; expr: Expr }
  | { type: 'compare'; column: string; op: ComparisonOp; values: Literal[] }
  | { type: 'between'; column: string; negated: boolean; from: Literal; to: Literal }
  | { type: 'is'; column: string; negated: boolean };

interface ParsedQuery {
  where: Expr | null;
  groupBy: string[];
  orderBy: Array<{ column: string; direction: 'ASC' | 'DESC' }>;
}

const RESERVED = new Set([
  'and',
  'or',
  'not',
  'in',
  'is',
  'null',
  'between',
  'order',
  'by',
  'asc',
  'desc',
  'true',
  'false',
  'limit',
  'group',
  'like',
  'select',
  'from',
  'where',
  'starts_with',
]);

class Parser {
  private index = 0;
  constructor(
    private readonly query: string,
    private readonly tokens: Token[],
  ) {}

  parse(): ParsedQuery {
    let where: Expr | null = null;
    if (!this.isKeyword('order') && !this.isKeyword('group') && this.peek().type !== 'eof') {
      where = this.parseOr();
    }
    const groupBy: string[] = [];
    if (this.isKeyword('group')) {
      this.next();
      this.expectKeyword('by');
      do groupBy.push(this.parseColumnName());
      while (this.acceptPunct(','));
    }
    const orderBy: ParsedQuery['orderBy'] = [];
    if (this.isKeyword('order')) {
      this.next();
      this.expectKeyword('by');
      do {
        const column = this.parseColumnName();
        let direction: 'ASC' | 'DESC' = 'ASC';
        if (this.isKeyword('asc')) this.next();
        else if (this.isKeyword('desc')) {
          this.next();
          direction = 'DESC';
        }
        orderBy.push({ column, direction });
      } while (this.acceptPunct(','));
    }
    if (this.isKeyword('limit')) throw queryError(`${NOT_SUPPORTED}: 'LIMIT' clause`);
    if (this.peek().type !== 'eof') throw this.syntaxError();
    return { where, groupBy, orderBy };
  }

  private parseOr(): Expr {
    let left = this.parseAnd();
    while (this.isKeyword('or')) {
      this.next();
      left = { type: 'or', left, right: this.parseAnd() };
    }
    return left;
  }

  private parseAnd(): Expr {
    let left = this.parseNot();
    while (this.isKeyword('and')) {
      this.next();
      left = { type: 'and', left, right: this.parseNot() };
    }
    return left;
  }

  private parseNot(): Expr {
    if (this.isKeyword('not')) {
      this.next();
      return { type: 'not', expr: this.parseNot() };
    }
    return this.parsePrimary();
  }

  private parsePrimary(): Expr {
    if (this.acceptPunct('(')) {
      const expr = this.parseOr();
      this.expectPunct(')');
      return expr;
    }
    const token = this.peek();
    if (token.type === 'string' || token.type === 'number' || this.isKeyword('true') || this.isKeyword('false')) {
      throw queryError(`${INVALID_EXPRESSION}: must be a column name but was *sqlparser.SQLVal`);
    }
    const column = this.parseColumnName();
    const op = this.peek();
    if (op.type === 'op') {
      this.next();
      if (this.isKeyword('null')) {
        throw queryError(`${INVALID_EXPRESSION}: unexpected value type *sqlparser.NullVal`);
      }
      return { type: 'compare', column, op: op.text as ComparisonOp, values: [this.parseLiteral()] };
    }
    if (this.isKeyword('is')) {
      this.next();
      const negated = this.acceptKeyword('not');
      if (!this.isKeyword('null')) {
        if (this.isKeyword('true') || this.isKeyword('false')) {
          throw queryError(`${INVALID_EXPRESSION}: 'IS' operator can only be used as 'IS NULL' or 'IS NOT NULL'`);
        }
        throw this.syntaxError();
      }
      this.next();
      return { type: 'is', column, negated };
    }
    const negated = this.acceptKeyword('not');
    if (this.isKeyword('in')) {
      this.next();
      this.expectPunct('(');
      const values: Literal[] = [];
      do values.push(this.parseLiteral());
      while (this.acceptPunct(','));
      this.expectPunct(')');
      return { type: 'compare', column, op: negated ? 'not in' : 'in', values };
    }
    if (this.isKeyword('between')) {
      this.next();
      const from = this.parseLiteral();
      this.expectKeyword('and');
      const to = this.parseLiteral();
      return { type: 'between', column, negated, from, to };
    }
    if (this.isKeyword('starts_with')) {
      this.next();
      return {
        type: 'compare',
        column,
        op: negated ? 'not starts_with' : 'starts_with',
        values: [this.parseLiteral()],
      };
    }
    if (this.isKeyword('like')) {
      throw queryError(`${INVALID_EXPRESSION}: invalid operator '${negated ? 'not like' : 'like'}'`);
    }
    if (
      !negated &&
      (this.peek().type === 'eof' || this.peek().text === ')' || this.isKeyword('and') || this.isKeyword('or'))
    ) {
      throw queryError(`${INVALID_EXPRESSION}: incomplete expression`);
    }
    throw this.syntaxError();
  }

  private parseColumnName(): string {
    const token = this.peek();
    if (token.type === 'quotedIdent') {
      this.next();
      return token.text;
    }
    if (token.type === 'ident' && !RESERVED.has(token.text.toLowerCase())) {
      this.next();
      return token.text;
    }
    throw this.syntaxError();
  }

  private parseLiteral(): Literal {
    let token = this.peek();
    let sign = '';
    if (token.type === 'punct' && (token.text === '-' || token.text === '+')) {
      sign = token.text === '-' ? '-' : '';
      this.next();
      token = this.peek();
      if (token.type !== 'number') throw this.syntaxError();
    }
    if (token.type === 'string') {
      this.next();
      return { type: 'string', value: token.text, raw: token.text };
    }
    if (token.type === 'number') {
      this.next();
      const raw = sign + token.text;
      if (/^-?\d+$/.test(raw)) return { type: 'int', value: Number(raw), raw };
      return { type: 'float', value: Number(raw), raw };
    }
    if (this.isKeyword('true') || this.isKeyword('false')) {
      this.next();
      return { type: 'bool', value: token.text.toLowerCase() === 'true', raw: token.text.toLowerCase() };
    }
    if (token.type === 'ident' || token.type === 'quotedIdent') {
      if (token.type === 'ident' && RESERVED.has(token.text.toLowerCase())) throw this.syntaxError();
      const shown = token.type === 'quotedIdent' ? `\`${token.text}\`` : token.text;
      throw queryError(
        `${NOT_SUPPORTED}: column name on the right side of comparison expression (did you forget to quote "${shown}"?)`,
      );
    }
    throw this.syntaxError();
  }

  private peek(): Token {
    return this.tokens[this.index];
  }

  private next(): Token {
    const token = this.tokens[this.index];
    if (token.type !== 'eof') this.index++;
    return token;
  }

  private isKeyword(word: string): boolean {
    const token = this.peek();
    return token.type === 'ident' && token.text.toLowerCase() === word;
  }

  private acceptKeyword(word: string): boolean {
    if (!this.isKeyword(word)) return false;
    this.next();
    return true;
  }

  private expectKeyword(word: string): void {
    if (!this.acceptKeyword(word)) throw this.syntaxError();
  }

  private acceptPunct(text: string): boolean {
    const token = this.peek();
    if (token.type !== 'punct' || token.text !== text) return false;
    this.next();
    return true;
  }

  private expectPunct(text: string): void {
    if (!this.acceptPunct(text)) throw this.syntaxError();
  }

  /** Like the server's sqlparser: the position just after the offending token, and its text. */
  private syntaxError(): VisibilityQueryError {
    const token = this.peek();
    if (token.type === 'eof') {
      return queryError(`${MALFORMED}: syntax error at position ${this.query.length + 1}`);
    }
    const near = this.query.slice(token.pos, token.end);
    return queryError(`${MALFORMED}: syntax error at position ${token.end + 1} near '${near}'`);
  }
}

// ---------------------------------------------------------------------------------------------
// Values

/** Nanoseconds since the epoch, as bigint, so RFC3339Nano values compare exactly. */
type Nanos = bigint;

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(?:([Zz])|([+-])(\d{2}):(\d{2}))$/;

function parseRfc3339(text: string): Nanos | null {
  const m = RFC3339.exec(text);
  if (!m) return null;
  const [, y, mo, d, h, mi, s, frac, z, sign, oh, om] = m;
  const month = Number(mo);
  const day = Number(d);
  if (month < 1 || month > 12 || day < 1 || day > 31 || Number(h) > 23 || Number(mi) > 59 || Number(s) > 60) {
    return null;
  }
  let ms = Date.UTC(Number(y), month - 1, day, Number(h), Number(mi), Number(s));
  const check = new Date(ms);
  if (check.getUTCDate() !== day) return null; // 2024-02-30
  if (!z) {
    const offset = (Number(oh) * 60 + Number(om)) * 60_000;
    ms += sign === '+' ? -offset : offset;
  }
  const fraction = BigInt((frac ?? '').padEnd(9, '0'));
  return BigInt(ms) * 1_000_000n + fraction;
}

function toNanos(value: unknown): Nanos | null {
  if (value instanceof Date) {
    const ms = value.getTime();
    return Number.isNaN(ms) ? null : BigInt(ms) * 1_000_000n;
  }
  if (typeof value === 'string') return parseRfc3339(value);
  if (typeof value === 'number' && Number.isFinite(value)) return BigInt(Math.trunc(value)) * 1_000_000n;
  return null;
}

function toNumber(value: unknown): number | null {
  if (typeof value === 'number' && !Number.isNaN(value)) return value;
  if (typeof value === 'bigint') return Number(value);
  if (typeof value === 'string' && value.trim() !== '' && !Number.isNaN(Number(value))) return Number(value);
  return null;
}

function toKeyword(value: unknown): string | null {
  if (typeof value === 'string') return value;
  // untyped (legacy) search attributes arrive as one-element arrays
  if (Array.isArray(value) && value.length === 1 && typeof value[0] === 'string') return value[0];
  return null;
}

function toKeywordList(value: unknown): string[] | null {
  if (Array.isArray(value)) return value.filter((v): v is string => typeof v === 'string');
  if (typeof value === 'string') return [value];
  return null;
}

function toBool(value: unknown): boolean | null {
  if (typeof value === 'boolean') return value;
  if (Array.isArray(value) && value.length === 1 && typeof value[0] === 'boolean') return value[0];
  return null;
}

function words(text: string): string[] {
  return text
    .toLowerCase()
    .split(/[^\p{L}\p{N}]+/u)
    .filter((w) => w !== '');
}

function goValueDescription(literal: Literal): string {
  switch (literal.type) {
    case 'string':
      return `${JSON.stringify(literal.value)} (type: string)`;
    case 'int':
      return `${literal.raw} (type: int64)`;
    case 'float':
      return `${literal.raw} (type: float64)`;
    case 'bool':
      return `${literal.raw} (type: bool)`;
  }
}

/** A literal checked and converted for the column's kind. */
type Operand = string | number | boolean | Nanos;

function convertLiteral(column: Column, literal: Literal): Operand {
  const typeError = () =>
    queryError(
      `${INVALID_EXPRESSION}: invalid value type for search attribute ${column.name} of type ${KIND_ENUM_NAME[column.kind]}: ${goValueDescription(literal)}`,
    );
  if (column.name === 'ExecutionStatus' && SYSTEM_COLUMNS.ExecutionStatus.get === column.get) {
    if (literal.type === 'string') {
      if ((EXECUTION_STATUSES as readonly string[]).includes(literal.value)) return literal.value;
      throw queryError(`${INVALID_EXPRESSION}: invalid ExecutionStatus value '${literal.value}'`);
    }
    if (literal.type === 'int') {
      const status = EXECUTION_STATUSES[literal.value - 1];
      if (status && Number.isInteger(literal.value)) return status;
      throw queryError(`${INVALID_EXPRESSION}: invalid ExecutionStatus value ${literal.raw}`);
    }
    throw queryError(
      `${INVALID_EXPRESSION}: unexpected value type ${literal.type === 'bool' ? 'bool' : 'float64'} for search attribute ExecutionStatus`,
    );
  }
  switch (column.kind) {
    case 'Int':
    case 'Double':
      if (literal.type === 'int' || literal.type === 'float') return literal.value;
      throw typeError();
    case 'Bool':
      if (literal.type === 'bool') return literal.value;
      throw typeError();
    case 'Datetime':
      if (literal.type === 'int') return BigInt(literal.raw);
      if (literal.type === 'string') {
        const nanos = parseRfc3339(literal.value);
        if (nanos === null) {
          throw queryError(`${INVALID_EXPRESSION}: unable to parse datetime '${literal.value}'`);
        }
        return nanos;
      }
      throw typeError();
    case 'Keyword':
    case 'KeywordList':
    case 'Text':
      if (literal.type === 'string') return literal.value;
      throw typeError();
  }
}

// ---------------------------------------------------------------------------------------------
// Evaluation (three-valued: true, false, null = UNKNOWN)

type Truth = boolean | null;
type Predicate = (record: VisibilityRecord) => Truth;

const OPERATORS_BY_KIND: Record<SearchAttributeKind, readonly ComparisonOp[]> = {
  Keyword: ['=', '!=', '<', '<=', '>', '>=', 'in', 'not in', 'starts_with', 'not starts_with'],
  KeywordList: ['=', '!=', 'in', 'not in'],
  Text: ['=', '!='],
  Int: ['=', '!=', '<', '<=', '>', '>=', 'in', 'not in'],
  Double: ['=', '!=', '<', '<=', '>', '>=', 'in', 'not in'],
  Bool: ['=', '!=', '<', '<=', '>', '>=', 'in', 'not in'],
  Datetime: ['=', '!=', '<', '<=', '>', '>=', 'in', 'not in'],
};

function compareOrdered<T extends string | number | bigint | boolean>(op: ComparisonOp, a: T, b: T): boolean {
  switch (op) {
    case '=':
      return a === b;
    case '!=':
      return a !== b;
    case '<':
      return a < b;
    case '<=':
      return a <= b;
    case '>':
      return a > b;
    case '>=':
      return a >= b;
    default:
      throw new Error(`unexpected operator ${op}`);
  }
}

/** Reads the record's value in the column's kind; null when missing or not convertible. */
function reader(column: Column): (record: VisibilityRecord) => Operand | string[] | null {
  switch (column.kind) {
    case 'Keyword':
      return (r) => toKeyword(column.get(r));
    case 'Text':
      return (r) => {
        const v = column.get(r);
        return typeof v === 'string' ? v : null;
      };
    case 'KeywordList':
      return (r) => toKeywordList(column.get(r));
    case 'Int':
    case 'Double':
      return (r) => toNumber(column.get(r));
    case 'Bool':
      return (r) => toBool(column.get(r));
    case 'Datetime':
      return (r) => toNanos(column.get(r));
  }
}

function compileComparison(column: Column, op: ComparisonOp, literals: Literal[]): Predicate {
  if (!OPERATORS_BY_KIND[column.kind].includes(op)) {
    throw queryError(
      `${NOT_SUPPORTED}: operator '${op}' not supported for ${KIND_ENUM_NAME[column.kind]} type search attribute '${column.name}'`,
    );
  }
  const operands = literals.map((l) => convertLiteral(column, l));
  const read = reader(column);

  if (column.kind === 'KeywordList') {
    const wanted = operands as string[];
    const contains = (r: VisibilityRecord): Truth => {
      const list = read(r) as string[] | null;
      if (list === null) return null;
      return wanted.some((w) => list.includes(w));
    };
    return op === '=' || op === 'in' ? contains : (r) => negate(contains(r));
  }

  if (column.kind === 'Text') {
    const needed = words(operands[0] as string);
    const contains = (r: VisibilityRecord): Truth => {
      const text = read(r) as string | null;
      if (text === null) return null;
      const have = new Set(words(text));
      return needed.every((w) => have.has(w));
    };
    return op === '=' ? contains : (r) => negate(contains(r));
  }

  if (op === 'starts_with' || op === 'not starts_with') {
    const prefix = operands[0] as string;
    return (r) => {
      const value = read(r) as string | null;
      if (value === null) return null;
      return value.startsWith(prefix) === (op === 'starts_with');
    };
  }

  if (op === 'in' || op === 'not in') {
    return (r) => {
      const value = read(r) as string | number | boolean | bigint | null;
      if (value === null) return null;
      const found = operands.some((o) => o === value);
      return op === 'in' ? found : !found;
    };
  }

  const operand = operands[0];
  return (r) => {
    const value = read(r) as string | number | boolean | bigint | null;
    if (value === null) return null;
    return compareOrdered(op, value, operand as typeof value);
  };
}

function negate(value: Truth): Truth {
  return value === null ? null : !value;
}

function compileExpr(expr: Expr, custom: Record<string, SearchAttributeKind>): Predicate {
  switch (expr.type) {
    case 'and': {
      const left = compileExpr(expr.left, custom);
      const right = compileExpr(expr.right, custom);
      return (r) => {
        const a = left(r);
        if (a === false) return false;
        const b = right(r);
        if (b === false) return false;
        return a === null || b === null ? null : true;
      };
    }
    case 'or': {
      const left = compileExpr(expr.left, custom);
      const right = compileExpr(expr.right, custom);
      return (r) => {
        const a = left(r);
        if (a === true) return true;
        const b = right(r);
        if (b === true) return true;
        return a === null || b === null ? null : false;
      };
    }
    case 'not': {
      const inner = compileExpr(expr.expr, custom);
      return (r) => negate(inner(r));
    }
    case 'compare':
      return compileComparison(resolveColumn(expr.column, custom), expr.op, expr.values);
    case 'between': {
      const column = resolveColumn(expr.column, custom);
      if (
        column.kind !== 'Datetime' &&
        column.kind !== 'Double' &&
        column.kind !== 'Int' &&
        column.kind !== 'Keyword'
      ) {
        throw queryError(
          `${INVALID_EXPRESSION}: cannot do range condition on search attribute '${column.name}' of type ${KIND_ENUM_NAME[column.kind]}`,
        );
      }
      const lower = compileComparison(column, '>=', [expr.from]);
      const upper = compileComparison(column, '<=', [expr.to]);
      return (r) => {
        const a = lower(r);
        const b = upper(r);
        const inside: Truth = a === false || b === false ? false : a === null || b === null ? null : true;
        return expr.negated ? negate(inside) : inside;
      };
    }
    case 'is': {
      const column = resolveColumn(expr.column, custom);
      return (r) => {
        const value = column.get(r);
        const missing = value === null || value === undefined || (Array.isArray(value) && value.length === 0);
        return expr.negated ? !missing : missing;
      };
    }
  }
}

/**
 * Compiles a visibility query. `customAttributes` are the namespace's registered custom search
 * attributes by name. Throws VisibilityQueryError ("invalid query: ...") for bad syntax, unknown
 * attributes, unsupported operators or values of the wrong type.
 */
export function compileVisibilityQuery(
  query: string,
  customAttributes: Record<string, SearchAttributeKind>,
): CompiledVisibilityQuery {
  const parsed = new Parser(query, tokenize(query)).parse();
  const predicate = parsed.where ? compileExpr(parsed.where, customAttributes) : () => true;
  const orderBy = parsed.orderBy.map(({ column, direction }) => {
    const resolved = resolveColumn(column, customAttributes);
    if (resolved.kind === 'Text') {
      throw queryError(`${NOT_SUPPORTED}: unable to sort by search attribute type ${KIND_ENUM_NAME[resolved.kind]}`);
    }
    return { field: resolved.name, direction };
  });
  if (parsed.groupBy.length > 1) {
    throw queryError(`${NOT_SUPPORTED}: 'GROUP BY' clause supports only a single field`);
  }
  const groupBy = parsed.groupBy.map((column) => {
    const resolved = resolveColumn(column, customAttributes);
    if (resolved.name !== 'ExecutionStatus' || resolved.get !== SYSTEM_COLUMNS.ExecutionStatus.get) {
      throw queryError(`${NOT_SUPPORTED}: 'GROUP BY' clause is only supported for ExecutionStatus`);
    }
    return resolved.name;
  });
  return {
    matches: (record) => predicate(record) === true,
    orderBy,
    groupBy,
  };
}
