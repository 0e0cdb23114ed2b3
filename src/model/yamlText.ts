// The one YAML parser setting for every file an operator gives us (JSON is
// YAML too): aliases bounded (a "billion laughs" document stays small), and
// yaml's warnings (an unknown !tag, read as a plain value) kept off stderr,
// since validation judges every value anyway. A parse error says where,
// never what: the excerpt yaml attaches may show a PSK or a password.
import { parse } from 'yaml';

export function parseYamlText(text: string): unknown {
  return parse(text, { maxAliasCount: 100, logLevel: 'error' });
}

/** Where a YAML parse failed, and its kind, without the excerpt yaml attaches (it may hold a secret). */
export function yamlErrorWhere(e: unknown): string {
  const err = e as { code?: string; linePos?: { line: number; col: number }[]; message?: string };
  const pos = err.linePos?.[0];
  const first = String(err.message ?? e).split('\n')[0].replace(/ at line \d+, column \d+:?$/, '');
  // yaml's first line names the kind of error (never the document's text) in its own words.
  const words = /^[A-Za-z ,()'-]{3,120}$/.test(first) ? first : err.code ?? 'syntax error';
  return `${words}${pos ? ` at line ${pos.line}, column ${pos.col}` : ''}`;
}
