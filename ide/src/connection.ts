/**
 * The one WebSocket to the server, through the official client (@replit/crosis), and the
 * channels panes open over it. Owns reconnection (crosis re-opens every channel; panes hear
 * `onOpen` again with the new channel) and the connection status shown in the header.
 * Panes never touch crosis directly: they get a LiveChannel.
 */

import { Client, ConnectionState } from '@replit/crosis';
import type { Channel } from '@replit/crosis';
import type { api } from '@replit/protocol';

export type Status = 'connecting' | 'connected' | 'disconnected' | 'failed';

type CommandListener = (cmd: api.Command) => void;

/** A channel that survives reconnects: listeners stay, the crosis Channel underneath changes. */
export class LiveChannel {
  private channel: Channel | null = null;
  private commandListeners = new Set<CommandListener>();
  private openListeners = new Set<() => void>();
  private closeListeners = new Set<() => void>();
  closeChannel: () => void = () => {};

  constructor(
    readonly service: string,
    readonly name: string | undefined,
  ) {}

  get isOpen(): boolean {
    return this.channel !== null && this.channel.status === 'open';
  }

  /** Called with every (re)opened channel; the first call may happen before `onOpen` is set. */
  attach(channel: Channel): () => void {
    this.channel = channel;
    const stop = channel.onCommand((cmd) => {
      for (const listener of this.commandListeners) listener(cmd);
    });
    for (const listener of this.openListeners) listener();
    return () => {
      stop();
      if (this.channel === channel) this.channel = null;
      for (const listener of this.closeListeners) listener();
    };
  }

  onCommand(listener: CommandListener): () => void {
    this.commandListeners.add(listener);
    return () => this.commandListeners.delete(listener);
  }

  /** Runs now if open, and after every reopen (reconnects give a new channel). */
  onOpen(listener: () => void): () => void {
    this.openListeners.add(listener);
    if (this.isOpen) listener();
    return () => this.openListeners.delete(listener);
  }

  onClose(listener: () => void): () => void {
    this.closeListeners.add(listener);
    return () => this.closeListeners.delete(listener);
  }

  /** Fire-and-forget; false (nothing sent) while disconnected. */
  send(cmd: api.ICommand): boolean {
    if (!this.channel || !this.isOpen) return false;
    this.channel.send(cmd);
    return true;
  }

  /** A request; rejects while disconnected or when the channel closes before the reply. */
  async request(cmd: api.ICommand): Promise<api.Command> {
    if (!this.channel || !this.isOpen) throw new Error('not connected');
    const result = await this.channel.request(cmd);
    if (result.channelClosed) throw new Error('channel closed');
    return result;
  }
}

export class Connection {
  readonly client = new Client<null>();
  private statusListeners = new Set<(status: Status, detail: string) => void>();
  private chan0Listeners = new Set<CommandListener>();
  status: Status = 'connecting';
  detail = '';

  constructor(private readonly token: string) {
    this.client.onConnectionStateChange((state) => {
      const status: Status =
        state === ConnectionState.CONNECTED
          ? 'connected'
          : state === ConnectionState.CONNECTING
            ? 'connecting'
            : 'disconnected';
      this.setStatus(status, '');
    });
    this.client.setUnrecoverableErrorHandler((error) => {
      this.setStatus('failed', error.message);
    });
  }

  start(): void {
    const secure = window.location.protocol === 'https:';
    const host = window.location.host;
    const gurl = `${secure ? 'wss' : 'ws'}://${host}`;
    this.client.open(
      {
        context: null,
        // Tokens never expire mid-page for us: reuse the one from the fragment on every retry.
        fetchConnectionMetadata: async () => ({
          error: null,
          token: this.token || 'local',
          gurl,
          conmanURL: `${window.location.protocol}//${host}`,
          dotdevHostname: window.location.hostname,
        }),
        // Reconnect quickly after a server restart; crosis's default backoff reaches 15 s.
        getNextRetryDelayMs: (tries) => Math.min(250 * 1.5 ** tries, 2000),
      },
      ({ channel }) => {
        const stop = channel.onCommand((cmd) => {
          for (const listener of this.chan0Listeners) listener(cmd);
        });
        return () => stop();
      },
    );
  }

  onStatus(listener: (status: Status, detail: string) => void): () => void {
    this.statusListeners.add(listener);
    listener(this.status, this.detail);
    return () => this.statusListeners.delete(listener);
  }

  /** Channel-0 notices (portOpen, containerState, toast). */
  onChannelZero(listener: CommandListener): () => void {
    this.chan0Listeners.add(listener);
    return () => this.chan0Listeners.delete(listener);
  }

  /** Opens (or attaches to, when named) a channel that is re-opened after every reconnect. */
  open(service: string, name?: string): LiveChannel {
    const live = new LiveChannel(service, name);
    const options = name === undefined ? { service } : { service, name };
    live.closeChannel = this.client.openChannel(options, ({ channel }) => live.attach(channel));
    return live;
  }

  private setStatus(status: Status, detail: string): void {
    if (this.status === 'failed') return;
    this.status = status;
    this.detail = detail;
    for (const listener of this.statusListeners) listener(status, detail);
  }
}
