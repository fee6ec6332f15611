// Reference oracle for the differential tests: evaluates cases with ot-text-unicode.
// stdin: one JSON case per line, {"fn": "apply"|"transform"|"normalize"|"compose"|
// "transformPosition", "args": [...]}; stdout: one JSON line per case, {"ok": result} or
// {"error": message}. Ops use the package's own JSON shape: n, "s", {"d": n}.
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';

const require = createRequire(import.meta.url);
const { type } = require('ot-text-unicode');

function evaluate(c) {
  const a = c.args;
  switch (c.fn) {
    case 'apply': return type.apply(a[0], a[1]);
    case 'transform': return type.transform(a[0], a[1], a[2]);
    case 'normalize': return type.normalize(a[0]);
    case 'compose': return type.compose(a[0], a[1]);
    case 'transformPosition': return type.transformPosition(a[0], a[1]);
    default: throw new Error(`unknown fn ${c.fn}`);
  }
}

const lines = readFileSync(0, 'utf8').split('\n').filter((l) => l.length > 0);
const cases = lines.map((l) => JSON.parse(l));
const out = cases.map((c) => {
  try {
    return JSON.stringify({ ok: evaluate(c) });
  } catch (e) {
    return JSON.stringify({ error: String(e.message) });
  }
});
process.stdout.write(out.join('\n') + '\n');
