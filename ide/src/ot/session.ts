/**
 * The client side of one OT document (protocol.md §5), with no I/O: at most one op in flight
 * (sent, not yet seen committed) plus a buffer composed from edits typed meanwhile.
 *
 * - A server packet whose ops equal the in-flight op (rebased locally over every packet that
 *   came before it) is our own commit coming back: the buffer becomes the next in-flight op.
 * - Any other packet P is someone else's: in-flight and buffer are rebased over P with `right`
 *   and P over them with `left` — exactly the server's rule mirrored (§5.6 step 4) — and the
 *   rebased P is applied to the editor.
 * - Packets are taken strictly in version order: an early one waits, a gap asks for a fetch.
 * - Offline, nothing is sent; `catchUp(current)` after a reconnect fetches what was missed,
 *   recognises an in-flight op that did commit, and resends one that did not.
 */

import { type as text, type TextOp } from 'ot-text-unicode';
import { crc32 } from './crc32';
import { sameOp } from './wire';

export interface Packet {
  version: number;
  op: TextOp;
  crc32: number;
  /** Commit time in ms since the epoch (0 when unknown). */
  committed: number;
}

export interface SessionPorts {
  /** Send one client op based on `base` (the version it applies to). */
  send(op: TextOp, base: number): void;
  /** Apply someone else's (already rebased) op to the editor. */
  apply(op: TextOp): void;
  /** Ask for packets `from`..`to` inclusive; they come back through `receive`. */
  fetch(from: number, to: number): void;
  /** The editor's current text, for the checksum. */
  text(): string;
  /** The document diverged (bad checksum): start over from the server's text. */
  diverged(reason: string): void;
}

export class OTSession {
  inflight: TextOp | null = null;
  buffer: TextOp | null = null;
  private sent = false;
  private online = false;
  private early = new Map<number, Packet>();
  private fetching = 0;

  constructor(
    public version: number,
    private readonly ports: SessionPorts,
  ) {}

  get pending(): boolean {
    return this.inflight !== null || this.buffer !== null;
  }

  /** A local edit, based on the editor's current text. */
  local(op: TextOp): void {
    const normal = text.normalize(op);
    if (normal.length === 0) return;
    if (this.inflight === null) this.inflight = normal;
    else this.buffer = this.buffer === null ? normal : text.compose(this.buffer, normal);
    this.trySend();
  }

  /** The connection dropped: whatever is in flight may or may not have committed. */
  offline(): void {
    this.online = false;
    this.sent = false;
    this.early.clear();
    this.fetching = 0;
  }

  /** Linked again and the server is at `current`: fetch what we missed, then send. */
  catchUp(current: number): void {
    this.online = true;
    if (current > this.version) this.requestGap(current);
    else this.trySend();
  }

  receive(packet: Packet): void {
    if (packet.version <= this.version) return;
    this.early.set(packet.version, packet);
    if (packet.version > this.version + 1) {
      this.requestGap(packet.version - 1);
      return;
    }
    for (let next = this.early.get(this.version + 1); next; next = this.early.get(this.version + 1)) {
      this.early.delete(next.version);
      this.take(next);
    }
    if (this.version >= this.fetching) this.fetching = 0;
    this.trySend();
  }

  private requestGap(to: number): void {
    if (this.fetching >= to) return;
    const from = Math.max(this.version, this.fetching) + 1;
    this.fetching = to;
    this.ports.fetch(from, to);
  }

  private take(packet: Packet): void {
    this.version = packet.version;
    if (this.inflight !== null && sameOp(packet.op, this.inflight)) {
      this.inflight = this.buffer;
      this.buffer = null;
      this.sent = false;
    } else {
      this.rebaseAndApply(packet.op);
    }
    if (!this.pending && crc32(this.ports.text()) !== packet.crc32) {
      this.ports.diverged(`checksum mismatch at version ${packet.version}`);
    }
  }

  private rebaseAndApply(remote: TextOp): void {
    let op = remote;
    if (this.inflight !== null) {
      const rebased = text.transform(this.inflight, op, 'right');
      op = text.transform(op, this.inflight, 'left');
      this.inflight = rebased;
    }
    if (this.buffer !== null) {
      const rebased = text.transform(this.buffer, op, 'right');
      op = text.transform(op, this.buffer, 'left');
      this.buffer = rebased;
    }
    this.ports.apply(op);
  }

  private trySend(): void {
    if (!this.online || this.sent || this.inflight === null || this.fetching > 0) return;
    this.sent = true;
    this.ports.send(this.inflight, this.version);
  }
}
