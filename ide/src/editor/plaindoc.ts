/**
 * A file opened without the `ot` service: read once through `gcsfiles`, saved with Mod-s
 * (`write`). The fallback for servers that do not offer collaborative editing.
 */

import type { EditorView } from '@codemirror/view';
import type { LiveChannel } from '../connection';
import { h } from '../dom';
import type { PaneContext } from '../panes/registry';
import type { OpenDoc } from './opendoc';
import { createEditor } from './view';

export class PlainDoc implements OpenDoc {
  readonly element = h('div', { class: 'doc' });
  private readonly notice = h('p', { class: 'doc-notice', role: 'status' });
  private view: EditorView | null = null;

  constructor(
    readonly path: string,
    private readonly files: LiveChannel,
    private readonly ctx: PaneContext,
  ) {
    this.element.append(this.notice);
    void this.load();
  }

  focus(): void {
    this.view?.focus();
  }

  close(): void {
    this.view?.destroy();
  }

  private async load(): Promise<void> {
    const reply = await this.files.request({ read: { path: this.path } });
    if (reply.error || !reply.file) {
      this.notice.textContent = reply.error || 'could not read the file';
      return;
    }
    const content = new TextDecoder().decode(reply.file.content ?? new Uint8Array());
    this.view = createEditor(this.element, {
      doc: content,
      readOnly: this.ctx.readOnly,
      label: `Editor: ${this.path}`,
      onLocalChange: () => {
        this.notice.textContent = 'Unsaved changes (Ctrl+S saves)';
      },
      onSelection: () => {},
      extraKeys: [{ key: 'Mod-s', run: () => (void this.save(), true) }],
    });
  }

  private async save(): Promise<void> {
    if (!this.view || this.ctx.readOnly) return;
    const content = new TextEncoder().encode(this.view.state.doc.toString());
    const reply = await this.files.request({ write: { path: this.path, content } });
    this.notice.textContent = reply.error || 'Saved';
  }
}
