/**
 * Other people's cursors and selections in the editor: a caret with the user's name over it
 * and a tinted selection, in the user's colour. The OT document keeps their positions (code
 * points) and hands a fresh list here after every change.
 */

import { StateEffect, StateField, type Range } from '@codemirror/state';
import { Decoration, type DecorationSet, EditorView, WidgetType } from '@codemirror/view';
import { badgeFor, colourFor } from '../dom';

export interface RemoteCursor {
  id: string;
  userId: number;
  name: string;
  /** UTF-16 offsets in the current editor text. */
  head: number;
  from: number;
  to: number;
}

export const setRemoteCursors = StateEffect.define<RemoteCursor[]>();

class CaretWidget extends WidgetType {
  constructor(
    readonly name: string,
    readonly colour: string,
    readonly badge: string,
  ) {
    super();
  }

  eq(other: CaretWidget): boolean {
    return other.name === this.name && other.colour === this.colour && other.badge === this.badge;
  }

  toDOM(): HTMLElement {
    const caret = document.createElement('span');
    caret.className = 'remote-caret';
    caret.style.borderColor = this.colour;
    caret.setAttribute('aria-hidden', 'true');
    const label = document.createElement('span');
    label.className = 'remote-label';
    label.style.background = this.badge;
    label.textContent = this.name;
    caret.append(label);
    return caret;
  }

  ignoreEvent(): boolean {
    return true;
  }
}

function decorationsFor(cursors: RemoteCursor[], length: number): DecorationSet {
  const ranges: Range<Decoration>[] = [];
  for (const cursor of cursors) {
    const colour = colourFor(cursor.userId);
    const clamp = (n: number) => Math.max(0, Math.min(n, length));
    const [from, to] = [clamp(cursor.from), clamp(cursor.to)];
    if (from < to) {
      const mark = Decoration.mark({
        class: 'remote-selection',
        attributes: { style: `background: color-mix(in srgb, ${colour} 25%, transparent)` },
      });
      ranges.push(mark.range(from, to));
    }
    const widget = Decoration.widget({ widget: new CaretWidget(cursor.name, colour, badgeFor(cursor.userId)), side: 1 });
    ranges.push(widget.range(clamp(cursor.head)));
  }
  return Decoration.set(ranges, true);
}

export const remoteCursorField = StateField.define<DecorationSet>({
  create: () => Decoration.none,
  update(decorations, tr) {
    for (const effect of tr.effects) {
      if (effect.is(setRemoteCursors)) return decorationsFor(effect.value, tr.state.doc.length);
    }
    return decorations.map(tr.changes);
  },
  provide: (field) => EditorView.decorations.from(field),
});
