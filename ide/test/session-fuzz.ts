/**
 * Randomised check of the client OT session (src/ot/session.ts) against a model of the server
 * (protocol.md §5.6: rebase with `right` over every packet since the base, broadcast to all,
 * sender included). Several clients edit at once over queues that deliver in random
 * interleavings; at the end every client must hold the server's text with nothing pending.
 *
 * Usage (after bundling with esbuild): node session-fuzz.js SEEDS STEPS
 */

import { type as text, type TextOp } from 'ot-text-unicode';
import { crc32 } from '../src/ot/crc32';
import { OTSession, type Packet } from '../src/ot/session';

function random(seed: number): () => number {
  let state = seed >>> 0 || 1;
  return () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 0x100000000;
  };
}

const ALPHABET = ['a', 'b', 'X', '\n', 'é', '😀'];

interface Client {
  text: string;
  session: OTSession;
  inbox: Packet[];
}

function randomOp(rand: () => number, doc: string): TextOp {
  const length = [...doc].length;
  const at = Math.floor(rand() * (length + 1));
  if (length > 0 && rand() < 0.4) {
    const count = 1 + Math.floor(rand() * Math.min(3, length - at));
    return text.normalize(at < length ? [at, { d: count }] : [length - 1, { d: 1 }]);
  }
  let insert = '';
  for (let n = 1 + Math.floor(rand() * 3); n > 0; n -= 1) insert += ALPHABET[Math.floor(rand() * ALPHABET.length)];
  return text.normalize([at, insert]);
}

function run(seed: number, steps: number): void {
  const rand = random(seed);
  let server = 'hello\n';
  const history: Packet[] = [{ version: 1, op: [server], crc32: crc32(server), committed: 0 }];
  const toServer: { from: number; op: TextOp; base: number }[] = [];
  const clients: Client[] = [];
  const broadcast = (packet: Packet) => clients.forEach((client) => client.inbox.push(packet));
  for (let i = 0; i < 3; i += 1) {
    const client: Client = { text: server, inbox: [], session: null as unknown as OTSession };
    client.session = new OTSession(1, {
      send: (op, base) => toServer.push({ from: i, op, base }),
      apply: (op) => (client.text = text.apply(client.text, op)),
      fetch: () => {
        throw new Error('no gaps expected: delivery is in order');
      },
      text: () => client.text,
      diverged: (reason) => {
        throw new Error(`client ${i} diverged: ${reason}`);
      },
    });
    client.session.catchUp(1);
    clients.push(client);
  }
  const commit = () => {
    const { op, base } = toServer.shift()!;
    let rebased = op;
    for (const packet of history.slice(base)) rebased = text.transform(rebased, packet.op, 'right');
    server = text.apply(server, rebased);
    const packet = { version: history.length + 1, op: text.normalize(rebased), crc32: crc32(server), committed: 0 };
    history.push(packet);
    broadcast(packet);
  };
  for (let step = 0; step < steps; step += 1) {
    const client = clients[Math.floor(rand() * clients.length)];
    const roll = rand();
    if (roll < 0.35) {
      const op = randomOp(rand, client.text);
      client.text = text.apply(client.text, op);
      client.session.local(op);
    } else if (roll < 0.7 && client.inbox.length > 0) {
      client.session.receive(client.inbox.shift()!);
    } else if (toServer.length > 0) {
      commit();
    }
  }
  while (toServer.length > 0 || clients.some((c) => c.inbox.length > 0)) {
    while (toServer.length > 0) commit();
    for (const client of clients) while (client.inbox.length > 0) client.session.receive(client.inbox.shift()!);
  }
  clients.forEach((client, i) => {
    if (client.text !== server) throw new Error(`seed ${seed}: client ${i} has ${JSON.stringify(client.text)}, server ${JSON.stringify(server)}`);
    if (client.session.pending) throw new Error(`seed ${seed}: client ${i} still has pending edits`);
    if (client.session.version !== history.length) throw new Error(`seed ${seed}: client ${i} at version ${client.session.version}`);
  });
}

const [seeds, steps] = process.argv.slice(2).map(Number);
for (let seed = 1; seed <= seeds; seed += 1) run(seed, steps);
console.log(`ok ${seeds} seeds x ${steps} steps`);
