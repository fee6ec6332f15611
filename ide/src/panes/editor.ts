/**
 * The editor area: one tab per open file (a WAI-ARIA tablist; Ctrl+W-free, closable with the
 * tab's × button or Delete on the tab), each a SharedDoc (ot service) or, without `ot`, a
 * PlainDoc saved through gcsfiles.
 */

import { h } from '../dom';
import { PlainDoc } from '../editor/plaindoc';
import type { OpenDoc } from '../editor/opendoc';
import { SharedDoc } from '../editor/otdoc';
import type { LiveChannel } from '../connection';
import { registerPane, type PaneContext } from './registry';

class EditorTabs {
  private readonly docs = new Map<string, { doc: OpenDoc; tab: HTMLElement }>();
  private readonly list = h('div', { class: 'tabs editor-tabs', role: 'tablist', 'aria-label': 'Open files' });
  private readonly body = h('div', { class: 'editor-body' });
  private readonly historyButton = h('button', {
    type: 'button', class: 'history-toggle', 'aria-pressed': 'false', 'data-testid': 'history-toggle',
  }, 'History');
  private readonly empty = h('p', { class: 'editor-empty' }, 'Open a file from the tree to edit it.');
  private files: LiveChannel | null = null;
  private current = '';

  constructor(
    host: HTMLElement,
    private readonly ctx: PaneContext,
  ) {
    this.historyButton.hidden = true;
    host.append(h('div', { class: 'editor-head' }, this.list, this.historyButton), this.body);
    this.historyButton.addEventListener('click', () => {
      const shown = this.docs.get(this.current)?.doc.toggleHistory?.() ?? false;
      this.historyButton.setAttribute('aria-pressed', String(shown));
    });
    this.body.append(this.empty);
    if (!ctx.services.has('ot')) this.files = ctx.conn.open('gcsfiles');
    ctx.bus.on('openFile', (path) => this.open(path));
    ctx.bus.on('pathGone', (path) => {
      for (const open of [...this.docs.keys()]) {
        if (open === path || open.startsWith(`${path}/`)) this.close(open);
      }
    });
    // Tests and the history pane reach documents through this (read-only) hook.
    (window as unknown as { goval: object }).goval = { docs: this.docs };
  }

  open(path: string): void {
    if (!this.docs.has(path)) {
      const doc = this.files ? new PlainDoc(path, this.files, this.ctx) : new SharedDoc(path, this.ctx);
      const tab = this.tab(path);
      this.docs.set(path, { doc, tab });
      this.list.append(tab);
      this.body.append(doc.element);
    }
    this.select(path);
    this.docs.get(path)?.doc.focus();
  }

  private tab(path: string): HTMLElement {
    const name = path.split('/').pop() ?? path;
    const label = h('button', {
      type: 'button', role: 'tab', class: 'tab-label', title: `${path} (Delete closes it)`, 'data-path': path,
    }, name);
    // A tablist may only hold tabs: the × is for the mouse, Delete on the tab for the keyboard.
    const close = h('button', {
      type: 'button', class: 'tab-close', tabindex: -1, 'aria-hidden': 'true', title: `Close ${path}`,
    }, '×');
    label.addEventListener('click', () => this.select(path));
    label.addEventListener('keydown', (event) => {
      if (event.key === 'Delete') this.close(path);
      if (event.key === 'ArrowRight' || event.key === 'ArrowLeft') this.step(event.key === 'ArrowRight' ? 1 : -1);
    });
    close.addEventListener('click', () => this.close(path));
    return h('div', { class: 'editor-tab', role: 'presentation' }, label, close);
  }

  private step(delta: number): void {
    const paths = [...this.docs.keys()];
    const next = paths[(paths.indexOf(this.current) + delta + paths.length) % paths.length];
    this.select(next);
    this.docs.get(next)?.tab.querySelector<HTMLElement>('[role=tab]')?.focus();
  }

  private select(path: string): void {
    this.current = path;
    for (const [open, { doc, tab }] of this.docs) {
      const selected = open === path;
      doc.element.hidden = !selected;
      const label = tab.querySelector<HTMLElement>('[role=tab]')!;
      label.setAttribute('aria-selected', String(selected));
      label.tabIndex = selected ? 0 : -1;
    }
    this.empty.hidden = this.docs.size > 0;
    const doc = this.docs.get(path)?.doc;
    this.historyButton.hidden = !doc?.toggleHistory;
    this.historyButton.setAttribute('aria-pressed', String(doc?.element.querySelector('.history') !== null));
  }

  private close(path: string): void {
    const open = this.docs.get(path);
    if (!open) return;
    open.doc.close();
    open.doc.element.remove();
    open.tab.remove();
    this.docs.delete(path);
    const next = [...this.docs.keys()].pop();
    if (next) this.select(next);
    else {
      this.empty.hidden = false;
      this.historyButton.hidden = true;
    }
  }
}

registerPane({
  id: 'editor',
  title: 'Editor',
  slot: 'main',
  services: ['gcsfiles'],
  minRole: 'read',
  order: 10,
  mount(host, ctx) {
    new EditorTabs(host, ctx);
  },
});
