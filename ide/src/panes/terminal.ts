/**
 * An xterm.js terminal bound to a PTY channel (shell, shellrun2): output in, keystrokes out as
 * `input`, its size as `resizeTerm` (re-sent after every reconnect, whose greeting redraws the
 * screen — so the terminal is reset first). Read-only users see output but cannot type.
 */

import { FitAddon } from '@xterm/addon-fit';
import { Terminal } from '@xterm/xterm';
import type { LiveChannel } from '../connection';

export class TerminalView {
  readonly term: Terminal;
  private readonly fit = new FitAddon();

  constructor(
    host: HTMLElement,
    private readonly channel: LiveChannel,
    readOnly: boolean,
    label: string,
  ) {
    this.term = new Terminal({
      disableStdin: readOnly,
      cursorBlink: !readOnly,
      convertEol: false,
      fontSize: 13,
      fontFamily: 'ui-monospace, "DejaVu Sans Mono", monospace',
      scrollback: 5000,
      theme: { background: '#14161a' },
    });
    this.term.loadAddon(this.fit);
    this.term.open(host);
    this.term.textarea?.setAttribute('aria-label', label);
    if (readOnly) this.term.textarea?.setAttribute('aria-readonly', 'true');
    this.term.onData((data) => {
      if (!readOnly) channel.send({ input: data });
    });
    this.term.onResize(({ rows, cols }) => channel.send({ resizeTerm: { rows, cols } }));
    channel.onOpen(() => {
      this.term.reset();
      this.sendSize();
    });
    channel.onCommand((cmd) => {
      if (cmd.output) this.term.write(cmd.output);
      else if (cmd.error && !cmd.ref) this.term.write(`\r\n\x1b[31m${cmd.error}\x1b[0m\r\n`);
    });
    new ResizeObserver(() => this.refit()).observe(host);
    host.closest('[role=tabpanel]')?.addEventListener('pane-shown', () => this.refit());
  }

  private refit(): void {
    const element = this.term.element;
    if (!element || element.offsetParent === null) return; // hidden: keep the last size
    this.fit.fit();
  }

  private sendSize(): void {
    this.refit();
    this.channel.send({ resizeTerm: { rows: this.term.rows, cols: this.term.cols } });
  }
}
