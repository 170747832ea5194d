// Runs a psql script (the compose stack's PostgreSQL init scripts) through `pg`, for machines without
// psql: the statements and the few meta-commands those scripts use (\getenv, \set, \if :{?var} / \else /
// \endif, \connect, :'var' and :"var" interpolation), with psql's ON_ERROR_STOP behaviour (the first
// error stops the script and is thrown).
import { Client as PgClient } from 'pg';

export interface PsqlScriptOptions {
  /** The connection the script starts on (as psql's -h/-p/-U/-d). */
  url: string;
  /** What \getenv reads. */
  env: Record<string, string | undefined>;
}

function quoteLiteral(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}

function quoteIdent(value: string): string {
  return `"${value.replaceAll('"', '""')}"`;
}

function interpolate(line: string, vars: Map<string, string>): string {
  return line.replace(
    /:(['"])([A-Za-z_][A-Za-z0-9_]*)\1|:\{\?([A-Za-z_][A-Za-z0-9_]*)\}/g,
    (whole, quote, name, tested) => {
      if (tested) return vars.has(tested) ? 'TRUE' : 'FALSE';
      const value = vars.get(name as string);
      if (value === undefined) throw new Error(`psql variable ${name as string} is not set`);
      return quote === "'" ? quoteLiteral(value) : quoteIdent(value);
    },
  );
}

export async function runPsqlScript(script: string, options: PsqlScriptOptions): Promise<void> {
  const vars = new Map<string, string>();
  /** One entry per open \if: whether its branch runs. */
  const branches: boolean[] = [];
  const active = () => branches.every(Boolean);
  let client = new PgClient({ connectionString: options.url });
  await client.connect();
  let statement = '';
  try {
    for (const raw of script.split('\n')) {
      const line = raw.trim();
      if (line.startsWith('\\')) {
        const [command, ...args] = line.slice(1).split(/\s+/);
        if (command === 'if') {
          branches.push(active() && interpolate(args.join(' '), vars).toUpperCase() === 'TRUE');
        } else if (command === 'else') {
          const taken = branches.pop();
          if (taken === undefined) throw new Error('\\else without \\if');
          branches.push(!taken);
        } else if (command === 'endif') {
          if (branches.pop() === undefined) throw new Error('\\endif without \\if');
        } else if (!active()) {
          continue;
        } else if (command === 'getenv') {
          const value = options.env[args[1]!];
          if (value !== undefined) vars.set(args[0]!, value);
        } else if (command === 'set') {
          vars.set(args[0]!, args.slice(1).join(' '));
        } else if (command === 'connect' || command === 'c') {
          await client.end();
          const url = new URL(options.url);
          url.pathname = `/${args[0]}`;
          client = new PgClient({ connectionString: url.toString() });
          await client.connect();
        } else {
          throw new Error(`psql meta-command \\${command} is not supported here`);
        }
        continue;
      }
      if (!active() || line === '' || line.startsWith('--')) continue;
      statement += `${interpolate(raw, vars)}\n`;
      if (line.endsWith(';')) {
        await client.query(statement);
        statement = '';
      }
    }
    if (branches.length > 0) throw new Error('\\if without \\endif');
    if (statement.trim() !== '') await client.query(statement);
  } finally {
    await client.end();
  }
}
