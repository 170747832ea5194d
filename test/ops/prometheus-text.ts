// A strict reader of the Prometheus text exposition format (version 0.0.4): enough to prove /metrics
// parses the way a Prometheus server would read it, and to look samples up by name and labels.
import assert from 'node:assert/strict';

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface MetricFamily {
  name: string;
  type: 'counter' | 'gauge' | 'histogram' | 'summary' | 'untyped';
  help: string;
  samples: Sample[];
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const SUFFIXES: Record<MetricFamily['type'], string[]> = {
  counter: ['', '_total', '_created'],
  gauge: [''],
  histogram: ['_bucket', '_sum', '_count', '_created'],
  summary: ['', '_sum', '_count', '_created'],
  untyped: [''],
};

function parseValue(text: string, line: string): number {
  if (text === '+Inf' || text === 'Inf') return Infinity;
  if (text === '-Inf') return -Infinity;
  // prom-client writes `Nan` (e.g. event-loop lag before its first sample); Prometheus reads floats
  // with Go's ParseFloat, which takes NaN in any case.
  if (/^nan$/i.test(text)) return NaN;
  assert.match(text, /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/, `bad sample value in: ${line}`);
  return Number(text);
}

/** Parses `{a="x",b="y\"z"}` starting at `i` (at '{'); returns the labels and the index after '}'. */
function parseLabels(line: string, i: number): [Record<string, string>, number] {
  const labels: Record<string, string> = {};
  i += 1;
  while (line[i] !== '}') {
    const eq = line.indexOf('=', i);
    assert.ok(eq > i, `bad label in: ${line}`);
    const name = line.slice(i, eq).trim();
    assert.match(name, LABEL_NAME, `bad label name ${name} in: ${line}`);
    assert.equal(line[eq + 1], '"', `label value must be quoted in: ${line}`);
    let value = '';
    let j = eq + 2;
    for (; j < line.length && line[j] !== '"'; j++) {
      if (line[j] === '\\') {
        j++;
        const escaped = line[j];
        assert.ok(escaped === '\\' || escaped === '"' || escaped === 'n', `bad escape in: ${line}`);
        value += escaped === 'n' ? '\n' : escaped;
      } else {
        value += line[j];
      }
    }
    assert.equal(line[j], '"', `unterminated label value in: ${line}`);
    assert.ok(!(name in labels), `duplicate label ${name} in: ${line}`);
    labels[name] = value;
    i = j + 1;
    if (line[i] === ',') i++;
    else assert.equal(line[i], '}', `expected , or } in: ${line}`);
  }
  return [labels, i + 1];
}

/** Every family with its samples; throws (assert) on anything a Prometheus server would reject. */
export function parsePrometheusText(body: string): Map<string, MetricFamily> {
  const families = new Map<string, MetricFamily>();
  const family = (name: string) => {
    let f = families.get(name);
    if (!f) families.set(name, (f = { name, type: 'untyped', help: '', samples: [] }));
    return f;
  };
  assert.ok(body.endsWith('\n'), 'the exposition ends with a newline');
  for (const line of body.split('\n')) {
    if (line.trim() === '') continue;
    if (line.startsWith('#')) {
      const meta = /^# (HELP|TYPE) (\S+) ?(.*)$/.exec(line);
      if (!meta) continue; // a plain comment
      const [, kind, name, rest] = meta;
      assert.match(name, NAME, `bad metric name in: ${line}`);
      if (kind === 'TYPE') {
        assert.ok(['counter', 'gauge', 'histogram', 'summary', 'untyped'].includes(rest), `bad type in: ${line}`);
        assert.equal(family(name).samples.length, 0, `TYPE after samples in: ${line}`);
        family(name).type = rest as MetricFamily['type'];
      } else {
        family(name).help = rest;
      }
      continue;
    }
    const nameMatch = /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(line);
    assert.ok(nameMatch, `not a sample line: ${line}`);
    const name = nameMatch[0];
    let i = name.length;
    let labels: Record<string, string> = {};
    if (line[i] === '{') [labels, i] = parseLabels(line, i);
    const rest = line.slice(i).trim().split(/\s+/);
    assert.ok(rest.length === 1 || rest.length === 2, `expected a value and an optional timestamp in: ${line}`);
    const value = parseValue(rest[0], line);
    if (rest.length === 2) assert.match(rest[1], /^-?\d+$/, `bad timestamp in: ${line}`);
    const owner = [...families.values()].find((f) => SUFFIXES[f.type].some((suffix) => f.name + suffix === name));
    assert.ok(owner, `sample ${name} belongs to no declared metric family`);
    owner.samples.push({ name, labels, value });
  }
  return families;
}

/** The value of the one sample named `name` whose labels include `labels`, or undefined. */
export function sampleValue(
  families: Map<string, MetricFamily>,
  name: string,
  labels: Record<string, string> = {},
): number | undefined {
  const matches = [...families.values()]
    .flatMap((f) => f.samples)
    .filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  assert.ok(matches.length <= 1, `more than one ${name} sample matches ${JSON.stringify(labels)}`);
  return matches[0]?.value;
}
