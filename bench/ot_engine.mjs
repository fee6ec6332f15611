// Times ot-text-unicode on the cases bench/ot_engine.py sends: stdin = one JSON
// [text, a, b] per line; argv[2] = rounds. Each case: b' = transform(b, a, 'right'),
// then apply(apply(text, a), b'). Prints {"count", "seconds"}.
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';

const require = createRequire(import.meta.url);
const { type } = require('ot-text-unicode');

const cases = readFileSync(0, 'utf8').split('\n').filter((l) => l).map((l) => JSON.parse(l));
const rounds = Number(process.argv[2] ?? 1);
for (let r = 0; r < 5; r++) {
  for (const [text, a, b] of cases) type.apply(type.apply(text, a), type.transform(b, a, 'right'));
}
const started = process.hrtime.bigint();
let count = 0;
for (let r = 0; r < rounds; r++) {
  for (const [text, a, b] of cases) {
    type.apply(type.apply(text, a), type.transform(b, a, 'right'));
    count++;
  }
}
const seconds = Number(process.hrtime.bigint() - started) / 1e9;
process.stdout.write(JSON.stringify({ count, seconds }) + '\n');
