/**
 * One CodeMirror 6 editor as the IDE configures it: line numbers, undo history, keyboard
 * commands (Tab indents; Escape then Tab leaves the editor), remote cursors, read-only mode.
 * Changes that came from the server carry the `remote` annotation and stay out of the undo
 * history, so undo only ever undoes what this user typed.
 */

import { defaultKeymap, history, historyKeymap, indentWithTab } from '@codemirror/commands';
import { Annotation, EditorState, Transaction } from '@codemirror/state';
import {
  drawSelection,
  EditorView,
  highlightActiveLine,
  highlightSpecialChars,
  keymap,
  lineNumbers,
  type ViewUpdate,
} from '@codemirror/view';
import { remoteCursorField } from './cursors';

export const remote = Annotation.define<boolean>();

export interface EditorOptions {
  doc: string;
  readOnly: boolean;
  label: string;
  /** Every local change (typing, undo, paste...), before the next one. */
  onLocalChange(update: ViewUpdate, transaction: Transaction): void;
  onSelection(update: ViewUpdate): void;
  extraKeys?: { key: string; run: () => boolean }[];
}

export function createEditor(parent: HTMLElement, options: EditorOptions): EditorView {
  const listener = EditorView.updateListener.of((update) => {
    for (const transaction of update.transactions) {
      if (transaction.docChanged && !transaction.annotation(remote)) {
        options.onLocalChange(update, transaction);
      }
    }
    if (update.selectionSet || update.docChanged || update.focusChanged) options.onSelection(update);
  });
  const state = EditorState.create({
    doc: options.doc,
    extensions: [
      lineNumbers(),
      highlightSpecialChars(),
      history(),
      drawSelection(),
      highlightActiveLine(),
      keymap.of([...(options.extraKeys ?? []), ...defaultKeymap, ...historyKeymap, indentWithTab]),
      EditorState.readOnly.of(options.readOnly),
      EditorView.editable.of(!options.readOnly),
      EditorView.contentAttributes.of({ 'aria-label': options.label }),
      remoteCursorField,
      listener,
    ],
  });
  return new EditorView({ state, parent });
}

/** Apply changes that came from elsewhere without echoing them or touching undo. */
export function applyRemote(view: EditorView, changes: Parameters<EditorView['dispatch']>[0]): void {
  view.dispatch({
    ...changes,
    annotations: [remote.of(true), Transaction.addToHistory.of(false)],
  });
}
