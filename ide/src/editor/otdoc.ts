/**
 * One file open for collaborative editing: the `ot:<path>` channel, its OT session and its
 * editor. Linking (§5.5) yields the server's text and version; after a reconnect the same
 * link only tells how far the server got, and the session catches up by fetching (§5.7) —
 * unsent edits are kept and sent afterwards, never "keep local or server?".
 *
 * While a link is in progress, packets are sorted out here: the linking session gets a
 * snapshot packet (the whole text at the current version) after any live packets up to that
 * version, and live packets above it after. A packet whose version is not above the snapshot
 * so far is a (newer) snapshot; one above it is live.
 */

import type { api } from '@replit/protocol';
import type { EditorView } from '@codemirror/view';
import { type as text, type TextOp } from 'ot-text-unicode';
import type { LiveChannel } from '../connection';
import { h } from '../dom';
import type { PaneContext } from '../panes/registry';
import { OTSession, type Packet } from '../ot/session';
import { fromWire, toWire } from '../ot/wire';
import { changesFromOp, opFromChanges } from './positions';
import { applyRemote, createEditor } from './view';
import { CursorBook } from './cursorbook';
import type { OpenDoc } from './opendoc';
import { HistoryView } from './history';

interface Link {
  base: { text: string; version: number } | null;
  after: Packet[];
}

function packetOf(wire: api.IOTPacket): Packet {
  const seconds = Number(wire.committed?.seconds ?? 0);
  const nanos = wire.committed?.nanos ?? 0;
  return {
    version: wire.version || wire.spookyVersion || 0,
    op: fromWire(wire.op),
    crc32: wire.crc32 ?? 0,
    committed: seconds * 1000 + Math.floor(nanos / 1e6),
  };
}

function textOf(op: TextOp): string {
  return op.filter((c): c is string => typeof c === 'string').join('');
}

export class SharedDoc implements OpenDoc {
  readonly element = h('div', { class: 'doc' });
  private readonly notice = h('p', { class: 'doc-notice', role: 'status' });
  private view: EditorView | null = null;
  private session: OTSession | null = null;
  private link: Link | null = null;
  private readonly channel: LiveChannel;
  private readonly cursors: CursorBook;
  private history: HistoryView | null = null;

  constructor(
    readonly path: string,
    private readonly ctx: PaneContext,
  ) {
    this.element.append(this.notice);
    this.channel = ctx.conn.open('ot', `ot:${path}`);
    this.cursors = new CursorBook(this.channel, () => this.view);
    this.channel.onCommand((cmd) => this.onCommand(cmd));
    this.channel.onClose(() => this.session?.offline());
    this.channel.onOpen(() => void this.relink());
  }

  get text(): string {
    return this.view?.state.doc.toString() ?? '';
  }

  get version(): number {
    return this.session?.version ?? 0;
  }

  get pending(): boolean {
    return this.session?.pending ?? false;
  }

  focus(): void {
    this.view?.focus();
  }

  /** Show the history slider instead of the editor, or go back to editing. */
  toggleHistory(): boolean {
    if (this.history) {
      this.history.destroy();
      this.history.element.remove();
      this.history = null;
      this.view?.dom.removeAttribute('hidden');
      this.view?.focus();
      return false;
    }
    this.history = new HistoryView(
      {
        path: this.path,
        readOnly: this.ctx.readOnly,
        packets: () => this.allPackets(),
        restore: (content) => this.restore(content),
      },
      () => this.toggleHistory(),
    );
    this.view?.dom.setAttribute('hidden', '');
    this.element.append(this.history.element);
    void this.history.load();
    return true;
  }

  close(): void {
    this.history?.destroy();
    this.cursors.leave();
    this.channel.closeChannel();
    this.view?.destroy();
  }

  private say(message: string): void {
    this.notice.textContent = message;
  }

  private async relink(): Promise<void> {
    this.link = { base: null, after: [] };
    let reply: api.Command;
    try {
      reply = await this.channel.request({ otLinkFile: { file: { path: this.path } } });
    } catch {
      return; // disconnected meanwhile: the next open links again
    }
    const link = this.link;
    this.link = null;
    if (reply.error || !link.base) {
      this.say(reply.error || 'could not open the file');
      return;
    }
    this.say('');
    if (this.session && link.base.version < this.session.version) {
      // The server lost versions we saw (a crash before they were durable): take its text,
      // then re-apply ours on top as one edit, so nothing typed here is lost.
      const ours = this.text;
      this.session = null;
      this.start(link);
      this.replaceText(ours, 'input.resync');
    } else if (this.session) {
      this.session.catchUp(link.base.version);
      for (const packet of link.after) this.session.receive(packet);
    } else {
      this.start(link);
    }
  }

  private start(link: Link): void {
    let { text: content, version } = link.base!;
    for (const packet of link.after) {
      content = text.apply(content, packet.op);
      version = packet.version;
    }
    if (this.view) {
      applyRemote(this.view, { changes: { from: 0, to: this.view.state.doc.length, insert: content } });
    } else {
      this.view = this.createView(content);
    }
    this.session = new OTSession(version, {
      send: (op, base) => void this.sendOp(op, base),
      apply: (op) => this.applyOp(op),
      fetch: (from, to) => void this.fetch(from, to),
      text: () => this.text,
      diverged: (reason) => this.resync(reason),
    });
    this.session.catchUp(version);
  }

  private createView(content: string): EditorView {
    return createEditor(this.element, {
      doc: content,
      readOnly: this.ctx.readOnly,
      label: `Editor: ${this.path}`,
      onLocalChange: (_update, transaction) => {
        const op = opFromChanges(transaction.startState.doc, transaction.changes);
        this.cursors.transform(op);
        this.session?.local(op);
      },
      onSelection: (update) => this.cursors.announce(update.state),
    });
  }

  private applyOp(op: TextOp): void {
    if (!this.view) return;
    applyRemote(this.view, { changes: changesFromOp(this.view.state.doc, op) });
    this.cursors.transform(op);
    // Lets tests (and the latency measurement) see exactly when someone else's edit landed.
    this.element.dispatchEvent(new CustomEvent('remote-edit'));
  }

  /** Every committed packet, fetched in slices (one reply must fit in a message). */
  private async allPackets(): Promise<Packet[]> {
    const packets: Packet[] = [];
    const current = this.version;
    for (let from = 1; from <= current; from += 500) {
      const to = Math.min(current, from + 499);
      const reply = await this.channel.request({ otFetchRequest: { versionFrom: from, versionTo: to } });
      if (reply.error) throw new Error(reply.error);
      packets.push(...(reply.otFetchResponse?.packets ?? []).map(packetOf));
    }
    return packets;
  }

  /** Restore an old version: one ordinary edit, so it is shared and undoable. */
  private restore(content: string): void {
    if (this.ctx.readOnly) return;
    this.replaceText(content, 'input.restore');
    this.toggleHistory();
  }

  /** Make the live text `content` with the smallest single replacement, as a local edit. */
  private replaceText(content: string, userEvent: string): void {
    if (!this.view) return;
    const current = this.view.state.doc.toString();
    let start = 0;
    while (start < current.length && start < content.length && current[start] === content[start]) start += 1;
    let end = 0;
    while (
      end < current.length - start && end < content.length - start &&
      current[current.length - 1 - end] === content[content.length - 1 - end]
    ) end += 1;
    // Never split a surrogate pair: OT counts code points.
    if (start > 0 && /[\uD800-\uDBFF]/.test(current[start - 1])) start -= 1;
    if (end > 0 && /[\uDC00-\uDFFF]/.test(current[current.length - end])) end -= 1;
    if (start === current.length - end && start === content.length - end) return;
    this.view.dispatch({
      changes: { from: start, to: current.length - end, insert: content.slice(start, content.length - end) },
      userEvent,
    });
  }

  private async sendOp(op: TextOp, base: number): Promise<void> {
    const nonce = Math.floor(Math.random() * 0xffffffff);
    const packet = { spookyVersion: base, version: base + 1, op: toWire(op), nonce };
    try {
      const reply = await this.channel.request({ ot: packet });
      if (reply.error) this.resync(reply.error);
    } catch {
      // The socket dropped: the session resends after the reconnect if it did not commit.
    }
  }

  private async fetch(from: number, to: number): Promise<void> {
    try {
      const reply = await this.channel.request({ otFetchRequest: { versionFrom: from, versionTo: to } });
      if (reply.error) this.resync(reply.error);
    } catch {
      // Disconnected: catching up starts over after the reconnect.
    }
  }

  private resync(reason: string): void {
    this.say(`Resynchronised with the server (${reason}).`);
    this.session = null;
    void this.relink();
  }

  private onCommand(cmd: api.Command): void {
    if (cmd.ot) this.onPacket(packetOf(cmd.ot));
    else if (cmd.otFetchResponse) {
      for (const wire of cmd.otFetchResponse.packets ?? []) this.session?.receive(packetOf(wire));
    } else if (cmd.otstatus) this.cursors.greet(cmd.otstatus.cursors ?? []);
    else if (cmd.otNewCursor) this.cursors.put(cmd.otNewCursor);
    else if (cmd.otDeleteCursor) this.cursors.remove(cmd.otDeleteCursor.id ?? '');
    else if (cmd.error && !cmd.ref) this.say(cmd.error);
  }

  private onPacket(packet: Packet): void {
    const link = this.link;
    if (!link) {
      this.session?.receive(packet);
      return;
    }
    if (!link.base || packet.version <= link.base.version) {
      link.base = { text: textOf(packet.op), version: packet.version };
      link.after = [];
    } else {
      link.after.push(packet);
    }
  }
}
