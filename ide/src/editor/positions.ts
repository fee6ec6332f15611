/**
 * Code points (what OT counts, §5.2) versus UTF-16 code units (what the DOM and CodeMirror
 * count), and ops between the two worlds.
 */

import type { ChangeSpec, Text } from '@codemirror/state';
import type { ChangeSet } from '@codemirror/state';
import type { TextOp } from 'ot-text-unicode';

export function codePoints(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i += 1) {
    const c = s.charCodeAt(i);
    // A high surrogate followed by a low one is one code point.
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) i += 1;
    }
    n += 1;
  }
  return n;
}

/** The UTF-16 index `count` code points after `from` in `s`. */
export function advance(s: string, from: number, count: number): number {
  let i = from;
  for (let n = 0; n < count && i < s.length; n += 1) {
    const c = s.charCodeAt(i);
    i += c >= 0xd800 && c <= 0xdbff && i + 1 < s.length ? 2 : 1;
  }
  return i;
}

export function toUtf16(doc: Text, codePoint: number): number {
  return Math.min(advance(doc.toString(), 0, codePoint), doc.length);
}

export function toCodePoint(doc: Text, utf16: number): number {
  return codePoints(doc.sliceString(0, utf16));
}

/** A CodeMirror change set (against `before`) as an OT op. */
export function opFromChanges(before: Text, changes: ChangeSet): TextOp {
  const op: TextOp = [];
  let at = 0;
  changes.iterChanges((fromA, toA, _fromB, _toB, inserted) => {
    const skip = codePoints(before.sliceString(at, fromA));
    if (skip > 0) op.push(skip);
    const removed = codePoints(before.sliceString(fromA, toA));
    if (removed > 0) op.push({ d: removed });
    const text = inserted.toString();
    if (text.length > 0) op.push(text);
    at = toA;
  });
  return op;
}

/** An OT op as CodeMirror changes against `doc`. */
export function changesFromOp(doc: Text, op: TextOp): ChangeSpec[] {
  const text = doc.toString();
  const changes: ChangeSpec[] = [];
  let at = 0;
  for (const component of op) {
    if (typeof component === 'number') {
      at = advance(text, at, component);
    } else if (typeof component === 'string') {
      changes.push({ from: at, insert: component });
    } else {
      const count = typeof component.d === 'number' ? component.d : codePoints(component.d);
      const end = advance(text, at, count);
      changes.push({ from: at, to: end });
      at = end;
    }
  }
  return changes;
}
