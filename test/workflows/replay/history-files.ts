// Recorded workflow histories as readable JSON (protobuf's canonical object form: enums by name,
// 64-bit numbers as strings, bytes as base64). @temporalio/common's historyToJSON fails with the
// protobufjs it resolves here ("type must be a Type"), so this goes through @temporalio/proto directly.
import { readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { temporal } from '@temporalio/proto';

const History = temporal.api.history.v1.History;
type HistoryMessage = temporal.api.history.v1.IHistory;

export function historyFileText(history: HistoryMessage): string {
  const object = History.toObject(History.fromObject(history), { enums: String, longs: String, bytes: String });
  return `${JSON.stringify(object, null, 1)}\n`;
}

export function readHistoryFile(path: string): temporal.api.history.v1.History {
  return History.fromObject(JSON.parse(readFileSync(path, 'utf8')));
}

/** Every recorded history in `dir`, named by file. */
export function readHistoryDir(dir: string): Array<{ name: string; history: temporal.api.history.v1.History }> {
  return readdirSync(dir)
    .filter((file) => file.endsWith('.json'))
    .sort()
    .map((file) => ({ name: basename(file, '.json'), history: readHistoryFile(join(dir, file)) }));
}
