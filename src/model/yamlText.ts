// The one YAML parser setting for every file an operator gives us (JSON is
// YAML too): aliases bounded (a "billion laughs" document stays small), and
// yaml's warnings (an unknown !tag, read as a plain value) kept off stderr,
// since validation judges every value anyway.
import { parse } from 'yaml';

export function parseYamlText(text: string): unknown {
  return parse(text, { maxAliasCount: 100, logLevel: 'error' });
}
