/**
 * Cursors on one OT document (§5.8): ours, announced with `otNewCursor` as the selection moves,
 * and everybody else's, kept in code points, moved through every op (ot-text-unicode's
 * transformPosition, like the server) and drawn by cursors.ts.
 */

import type { EditorState } from '@codemirror/state';
import type { EditorView } from '@codemirror/view';
import type { api } from '@replit/protocol';
import { type as text, type TextOp } from 'ot-text-unicode';
import type { LiveChannel } from '../connection';
import { setRemoteCursors } from './cursors';
import { toCodePoint, toUtf16 } from './positions';

interface Cursor {
  userId: number;
  name: string;
  position: number;
  from: number;
  to: number;
}

export class CursorBook {
  private readonly mine = `c${Math.random().toString(36).slice(2, 10)}`;
  private readonly cursors = new Map<string, Cursor>();
  private renderQueued = false;
  private announceTimer: number | undefined;

  constructor(
    private readonly channel: LiveChannel,
    private readonly view: () => EditorView | null,
  ) {}

  greet(list: api.IOTCursor[]): void {
    this.cursors.clear();
    for (const cursor of list) this.put(cursor);
    this.render();
  }

  put(cursor: api.IOTCursor): void {
    if (!cursor.id || cursor.id === this.mine) return;
    this.cursors.set(cursor.id, {
      userId: cursor.user?.id ?? 0,
      name: cursor.user?.name || 'someone',
      position: cursor.position ?? 0,
      from: cursor.selectionStart ?? 0,
      to: cursor.selectionEnd ?? 0,
    });
    this.render();
  }

  remove(id: string): void {
    if (this.cursors.delete(id)) this.render();
  }

  transform(op: TextOp): void {
    for (const cursor of this.cursors.values()) {
      cursor.position = text.transformPosition(cursor.position, op);
      cursor.from = text.transformPosition(cursor.from, op);
      cursor.to = text.transformPosition(cursor.to, op);
    }
    if (this.cursors.size > 0) this.render();
  }

  /** Tell the others where our cursor is (coalesced: one message per burst of moves). */
  announce(state: EditorState): void {
    window.clearTimeout(this.announceTimer);
    this.announceTimer = window.setTimeout(() => {
      const { head, from, to } = state.selection.main;
      const doc = state.doc;
      this.channel.send({
        otNewCursor: {
          id: this.mine,
          position: toCodePoint(doc, head),
          selectionStart: toCodePoint(doc, from),
          selectionEnd: toCodePoint(doc, to),
        },
      });
    }, 30);
  }

  leave(): void {
    window.clearTimeout(this.announceTimer);
    this.channel.send({ otDeleteCursor: { id: this.mine } });
  }

  names(): string[] {
    return [...this.cursors.values()].map((cursor) => cursor.name);
  }

  private render(): void {
    // Called from inside editor updates, where dispatching is not allowed: draw right after.
    if (this.renderQueued) return;
    this.renderQueued = true;
    queueMicrotask(() => {
      this.renderQueued = false;
      const view = this.view();
      if (!view) return;
      const doc = view.state.doc;
      const list = [...this.cursors.entries()].map(([id, c]) => ({
        id,
        userId: c.userId,
        name: c.name,
        head: toUtf16(doc, c.position),
        from: toUtf16(doc, c.from),
        to: toUtf16(doc, c.to),
      }));
      view.dispatch({ effects: setRemoteCursors.of(list) });
    });
  }
}
