// Editors as the 2020 workspace client runs them: @replit/crosis for the connection and
// ot-text-unicode for the client OT logic (one op in flight, a buffer, transform of incoming
// packets, the echo recognised by its ops), used by goval's convergence tests.
//
// argv[2] is JSON: {gurl, tokens: [...one per client], path, edits, seed, maxDelayMs}
// stdout lines (JSON): {event: "ready", client} once linked, {event: "idle", client, version}
// when all of a client's edits are acknowledged, {event: "final", client, text, version, crc32}
// after stdin sends {"target": V} and the client has reached version V, {event: "error", ...}.

import { createRequire } from 'node:module';
import readline from 'node:readline';

const require = createRequire(import.meta.url);
const { Client } = require('@replit/crosis');
const { type } = require('ot-text-unicode');
const WebSocket = require('ws');

const config = JSON.parse(process.argv[2]);
const emit = (message) => process.stdout.write(`${JSON.stringify(message)}\n`);

const CRC_TABLE = new Uint32Array(256).map((_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(text) {
  let crc = 0xffffffff;
  for (const byte of Buffer.from(text, 'utf8')) crc = CRC_TABLE[(crc ^ byte) & 0xff] ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

function random(seed) {
  // mulberry32: a seeded generator, so a failing run can be repeated.
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const fromWire = (ops) =>
  (ops || []).map((c) => (c.insert != null && c.insert !== '' ? c.insert : c.delete ? { d: c.delete } : c.skip || 0));
const toWire = (op) =>
  op.map((c) => (typeof c === 'number' ? { skip: c } : typeof c === 'string' ? { insert: c } : { delete: c.d }));

class Editor {
  constructor(label, token, rng) {
    this.label = label;
    this.rng = rng;
    this.text = '';
    this.version = 0;
    this.inflight = null;
    this.buffer = null;
    this.linking = false;
    this.channel = null;
    this.target = null;
    this.client = new Client();
    this.client.setUnrecoverableErrorHandler((e) => emit({ event: 'error', client: label, error: e.message }));
    this.client.open(
      {
        context: { label },
        WebSocketClass: WebSocket,
        getNextRetryDelayMs: () => 100,
        fetchConnectionMetadata: async () => ({
          error: null, token, gurl: config.gurl, conmanURL: config.gurl, dotdevHostname: '127.0.0.1',
        }),
      },
      () => {},
    );
    this.client.openChannel({ service: 'ot', name: `ot:${config.path}` }, ({ channel, error }) => {
      if (error) {
        emit({ event: 'error', client: label, error: String(error) });
        return;
      }
      this.channel = channel;
      channel.onCommand((cmd) => this.onCommand(cmd));
    });
  }

  onCommand(cmd) {
    if (cmd.otstatus) {
      if (cmd.otstatus.linkedFile && cmd.otstatus.linkedFile.path) {
        this.text = cmd.otstatus.contents || '';
        this.version = cmd.otstatus.version || 0;
        emit({ event: 'ready', client: this.label });
      } else {
        this.linking = true;
        this.channel.request({ otLinkFile: { file: { path: config.path } } }).then(() => {
          emit({ event: 'ready', client: this.label });
        });
      }
    } else if (cmd.ot) {
      this.onPacket(cmd.ot);
    } else if (cmd.error) {
      emit({ event: 'error', client: this.label, error: cmd.error });
    }
  }

  onPacket(packet) {
    const ops = fromWire(packet.op);
    if (this.linking) {
      // §5.5 step 4: the link status packet, whole text as one insert.
      this.linking = false;
      this.text = ops.length ? ops[0] : '';
      this.version = packet.version;
      return;
    }
    if (packet.version !== this.version + 1) {
      emit({ event: 'error', client: this.label, error: `gap: got ${packet.version} at ${this.version}` });
      return;
    }
    this.version = packet.version;
    if (this.inflight && JSON.stringify(ops) === JSON.stringify(this.inflight)) {
      this.inflight = this.buffer;
      this.buffer = null;
      if (this.inflight) this.send(this.inflight);
    } else {
      let op = ops;
      if (this.inflight) {
        [op, this.inflight] = [type.transform(op, this.inflight, 'left'), type.transform(this.inflight, op, 'right')];
      }
      if (this.buffer) {
        [op, this.buffer] = [type.transform(op, this.buffer, 'left'), type.transform(this.buffer, op, 'right')];
      }
      this.text = type.apply(this.text, op);
    }
    if (!this.inflight && crc32(this.text) !== packet.crc32) {
      emit({ event: 'error', client: this.label, error: `crc32 mismatch at ${this.version}` });
    }
    this.check();
  }

  send(op) {
    this.channel.request({ ot: { spookyVersion: this.version, op: toWire(op) } }).then((reply) => {
      if (reply.error) emit({ event: 'error', client: this.label, error: reply.error });
    });
  }

  edit() {
    const length = [...this.text].length;
    const pos = Math.floor(this.rng() * (length + 1));
    let op;
    if (length && this.rng() < 0.35) {
      const at = Math.min(pos, length - 1);
      op = type.normalize([at, { d: 1 }]);
    } else {
      const pieces = ['a', 'bc', '😀', '\n', 'é中', 'xyz'];
      op = type.normalize([pos, pieces[Math.floor(this.rng() * pieces.length)]]);
    }
    this.text = type.apply(this.text, op);
    if (!this.inflight) {
      this.inflight = op;
      this.send(op);
    } else {
      this.buffer = this.buffer ? type.compose(this.buffer, op) : op;
    }
  }

  async run(count) {
    for (let n = 0; n < count; n++) {
      this.edit();
      await new Promise((resolve) => setTimeout(resolve, Math.floor(this.rng() * config.maxDelayMs)));
    }
    this.editing = false;
    this.check();
  }

  check() {
    if (this.editing === false && !this.inflight && !this.buffer && !this.idleSent) {
      this.idleSent = true;
      emit({ event: 'idle', client: this.label, version: this.version });
    }
    if (this.target !== null && this.version >= this.target && !this.finalSent) {
      this.finalSent = true;
      emit({ event: 'final', client: this.label, text: this.text, version: this.version, crc32: crc32(this.text) });
    }
  }
}

const editors = config.tokens.map((token, n) => new Editor(`node${n}`, token, random(config.seed + n)));

const input = readline.createInterface({ input: process.stdin });
input.on('line', (line) => {
  const message = JSON.parse(line);
  if (message.start) {
    for (const editor of editors) editor.run(config.edits);
  } else if (message.target !== undefined) {
    for (const editor of editors) {
      editor.target = message.target;
      editor.check();
    }
  } else if (message.exit) {
    for (const editor of editors) editor.client.destroy();
    process.exit(0);
  }
});
input.on('close', () => process.exit(0));
