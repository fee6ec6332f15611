// A remote-controlled host for @replit/crosis clients, used by goval's interop tests.
//
// Reads operations as JSON lines on stdin and writes JSON lines on stdout:
//   in:  {"id": 7, "op": "openChannel", ...}
//   out: {"reply": 7, "ok": true, ...}    or    {"reply": 7, "ok": false, "error": "..."}
//   out: {"event": "connected", ...}      (unsolicited, whenever crosis calls back)
// Operations run concurrently: a slow one (a request, a channel close) does not hold up the
// next line. Several clients live in one process, each under a label chosen by the caller.
//
// Operations:
//   open          {client, gurl, tokens[], retryDelayMs?, reuseConnectionMetadata?}
//   ping          {client}                  channel-0 request {ping: {}}
//   openChannel   {client, chan, service, name?}
//   request       {chan, cmd}               channel.request(cmd); replies with the result
//   closeChannel  {chan}                    replies once crosis has finished closing it
//   close         {client}                  client.close()
//   state         {client}
//   exit          {}

import { createRequire } from 'node:module';
import readline from 'node:readline';

const require = createRequire(import.meta.url);
const { Client, ConnectionState } = require('@replit/crosis');
const WebSocket = require('ws');

function emit(message) {
  process.stdout.write(`${JSON.stringify(message)}\n`);
}

function commandJson(cmd) {
  // protobufjs messages know how to print themselves; channelClosed is crosis's own addition.
  const json = typeof cmd.toJSON === 'function' ? cmd.toJSON() : { ...cmd };
  if (cmd.channelClosed) {
    json.channelClosed = cmd.channelClosed;
  }
  return json;
}

const clients = new Map(); // label -> {client, chan0, connects, fetches}
const channels = new Map(); // label -> {client, channel, closeChannel, opens, onClosed}

function needClient(label) {
  const entry = clients.get(label);
  if (!entry) {
    throw new Error(`no client labelled ${label}`);
  }
  return entry;
}

function needChannel(label) {
  const entry = channels.get(label);
  if (!entry || !entry.channel) {
    throw new Error(`channel ${label} is not open`);
  }
  return entry;
}

// A `ws` WebSocket that also reports its URL and its close code, which crosis keeps to itself.
function tracingWebSocket(clientLabel) {
  return class TracingWebSocket extends WebSocket {
    constructor(url, ...rest) {
      super(url, ...rest);
      emit({ event: 'socketOpening', client: clientLabel, url: String(url) });
      this.addEventListener('close', (event) => {
        emit({ event: 'socketClosed', client: clientLabel, code: event.code, reason: event.reason });
      });
    }
  };
}

const operations = {
  async open({ client: label, gurl, tokens, retryDelayMs = 100, reuseConnectionMetadata = false }) {
    if (clients.has(label)) {
      throw new Error(`client ${label} already exists`);
    }
    const client = new Client();
    const entry = { client, chan0: null, connects: 0, fetches: 0 };
    clients.set(label, entry);

    client.setUnrecoverableErrorHandler((error) => {
      emit({ event: 'unrecoverable', client: label, message: error.message });
    });
    client.onConnectionStateChange((state) => {
      emit({ event: 'state', client: label, state: ConnectionState[state] });
    });
    client.onDebugLog((log) => {
      if (log.type === 'breadcrumb' && log.message === 'requestCloseChannel:closeChanRes') {
        emit({ event: 'closeChanRes', client: label, ...log.data });
      }
    });

    client.open(
      {
        context: { label },
        WebSocketClass: tracingWebSocket(label),
        reuseConnectionMetadata,
        getNextRetryDelayMs: () => retryDelayMs,
        fetchConnectionMetadata: async () => {
          const token = tokens[Math.min(entry.fetches, tokens.length - 1)];
          entry.fetches += 1;
          emit({ event: 'fetch', client: label, count: entry.fetches });
          return { error: null, token, gurl, conmanURL: gurl, dotdevHostname: '127.0.0.1' };
        },
      },
      ({ channel }) => {
        entry.chan0 = channel;
        entry.connects += 1;
        emit({ event: 'connected', client: label, count: entry.connects });
        return ({ willReconnect }) => {
          entry.chan0 = null;
          emit({ event: 'disconnected', client: label, willReconnect });
        };
      },
    );
    return {};
  },

  async ping({ client: label }) {
    const { chan0 } = needClient(label);
    if (!chan0) {
      throw new Error(`client ${label} is not connected`);
    }
    const cmd = { ping: {} };
    const result = await chan0.request(cmd);
    return { sentRef: cmd.ref, cmd: commandJson(result) };
  },

  async openChannel({ client: clientLabel, chan: label, service, name }) {
    const { client } = needClient(clientLabel);
    const previous = channels.get(label);
    const entry = { client: clientLabel, channel: null, closeChannel: null, opens: previous?.opens ?? 0, onClosed: [] };
    channels.set(label, entry);
    const options = name === undefined || name === null ? { service } : { service, name };
    entry.closeChannel = client.openChannel(options, ({ channel }) => {
      entry.channel = channel;
      entry.opens += 1;
      emit({ event: 'channel', client: clientLabel, chan: label, id: channel.id, count: entry.opens });
      channel.onCommand((cmd) => {
        emit({ event: 'command', chan: label, cmd: commandJson(cmd) });
      });
      return ({ initiator, willReconnect }) => {
        entry.channel = null;
        emit({ event: 'channelClosed', chan: label, initiator, willReconnect });
        for (const resolve of entry.onClosed.splice(0)) {
          resolve({ initiator, willReconnect });
        }
      };
    });
    return {};
  },

  async request({ chan: label, cmd }) {
    const { channel } = needChannel(label);
    const result = await channel.request(cmd);
    return { sentRef: cmd.ref, cmd: commandJson(result) };
  },

  async closeChannel({ chan: label }) {
    const entry = needChannel(label);
    const closed = new Promise((resolve) => entry.onClosed.push(resolve));
    entry.closeChannel();
    return await closed;
  },

  async close({ client: label }) {
    needClient(label).client.close();
    return {};
  },

  async state({ client: label }) {
    return { state: ConnectionState[needClient(label).client.getConnectionState()] };
  },

  async exit() {
    for (const { client } of clients.values()) {
      client.destroy();
    }
    setTimeout(() => process.exit(0), 0);
    return {};
  },
};

async function run(line) {
  let message;
  try {
    message = JSON.parse(line);
  } catch (error) {
    emit({ event: 'badInput', line, error: String(error) });
    return;
  }
  const { id, op, ...args } = message;
  try {
    const handler = operations[op];
    if (!handler) {
      throw new Error(`unknown op ${op}`);
    }
    const result = await handler(args);
    emit({ reply: id, ok: true, ...result });
  } catch (error) {
    emit({ reply: id, ok: false, error: error instanceof Error ? error.message : String(error) });
  }
}

const input = readline.createInterface({ input: process.stdin });
input.on('line', (line) => {
  if (line.trim()) {
    run(line);
  }
});
input.on('close', () => {
  for (const { client } of clients.values()) {
    client.destroy();
  }
  process.exit(0);
});
emit({ event: 'ready' });
