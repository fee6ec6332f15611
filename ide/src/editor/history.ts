/**
 * File history: a slider over every committed version of an OT document (fetched with
 * otFetchRequest, §5.7), replayed with ot-text-unicode and shown read-only with its commit
 * time. "Restore this version" replaces the live text with it as an ordinary local edit, so it
 * goes through OT to everyone and the user's undo takes it back.
 */

import type { EditorView } from '@codemirror/view';
import { type as text } from 'ot-text-unicode';
import { h } from '../dom';
import type { Packet } from '../ot/session';
import { applyRemote, createEditor } from './view';

export interface HistorySource {
  readonly path: string;
  readonly readOnly: boolean;
  packets(): Promise<Packet[]>;
  restore(content: string): void;
}

const CHECKPOINT = 32;

/** Texts of every version, kept as a checkpoint every CHECKPOINT versions plus the ops. */
class Replay {
  private readonly checkpoints: string[] = [''];

  constructor(readonly packets: Packet[]) {
    let content = '';
    packets.forEach((packet, index) => {
      content = text.apply(content, packet.op);
      if ((index + 1) % CHECKPOINT === 0) this.checkpoints.push(content);
    });
  }

  get latest(): number {
    return this.packets.length;
  }

  textAt(version: number): string {
    const base = Math.floor(version / CHECKPOINT);
    let content = this.checkpoints[base];
    for (let v = base * CHECKPOINT + 1; v <= version; v += 1) {
      content = text.apply(content, this.packets[v - 1].op);
    }
    return content;
  }
}

export class HistoryView {
  readonly element = h('div', { class: 'history', role: 'region' });
  private readonly slider = h('input', { type: 'range', min: 0, max: 0, step: 1, 'aria-label': 'Version' });
  private readonly label = h('span', { class: 'history-label', 'aria-live': 'polite', 'data-testid': 'history-label' });
  private readonly restoreButton = h('button', { type: 'button', 'data-testid': 'history-restore' }, 'Restore this version');
  private readonly preview = h('div', { class: 'doc history-preview' });
  private view: EditorView | null = null;
  private replay: Replay | null = null;

  constructor(
    private readonly source: HistorySource,
    onClose: () => void,
  ) {
    this.element.setAttribute('aria-label', `History of ${source.path}`);
    const close = h('button', { type: 'button' }, 'Back to editing');
    close.addEventListener('click', onClose);
    this.restoreButton.hidden = source.readOnly;
    this.restoreButton.addEventListener('click', () => this.restore());
    this.slider.addEventListener('input', () => this.show(Number(this.slider.value)));
    const bar = h('div', { class: 'toolbar history-bar' }, h('strong', {}, 'History'), this.slider, this.label, this.restoreButton, close);
    this.element.append(bar, this.preview);
  }

  async load(): Promise<void> {
    this.label.textContent = 'Loading…';
    try {
      this.replay = new Replay(await this.source.packets());
    } catch (error) {
      this.label.textContent = `History unavailable: ${(error as Error).message}`;
      return;
    }
    this.slider.max = String(this.replay.latest);
    this.slider.value = String(this.replay.latest);
    this.show(this.replay.latest);
    this.slider.focus();
  }

  destroy(): void {
    this.view?.destroy();
  }

  private show(version: number): void {
    if (!this.replay) return;
    const content = this.replay.textAt(version);
    const committed = version > 0 ? this.replay.packets[version - 1].committed : 0;
    const when = committed ? new Date(committed).toLocaleString() : 'before the first version';
    this.label.textContent = `Version ${version} of ${this.replay.latest} · ${when}`;
    this.slider.setAttribute('aria-valuetext', this.label.textContent);
    this.label.dataset.version = String(version);
    if (!this.view) {
      this.view = createEditor(this.preview, {
        doc: content, readOnly: true, label: `${this.source.path} at version ${version}`,
        onLocalChange: () => {}, onSelection: () => {},
      });
    } else {
      applyRemote(this.view, { changes: { from: 0, to: this.view.state.doc.length, insert: content } });
      this.view.contentDOM.setAttribute('aria-label', `${this.source.path} at version ${version}`);
    }
  }

  private restore(): void {
    if (!this.replay) return;
    this.source.restore(this.replay.textAt(Number(this.slider.value)));
  }
}
