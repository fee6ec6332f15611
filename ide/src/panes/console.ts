/**
 * The Console tab: the run console (`shellrun2`, named "shellrunner") with its Run/Stop
 * button and the program's state (Running / Stopped, announced to screen readers). Hints the
 * server matches in the output are shown above the terminal.
 */

import type { api } from '@replit/protocol';
import type { LiveChannel } from '../connection';
import { h } from '../dom';
import { registerPane, type PaneContext } from './registry';
import { TerminalView } from './terminal';

class RunConsole {
  private readonly button = h('button', { type: 'button', class: 'run', 'data-testid': 'console-run' }, 'Run');
  private readonly state = h('span', { class: 'run-state', role: 'status', 'data-testid': 'run-state' }, 'Stopped');
  private readonly hint = h('p', { class: 'hint', role: 'status' });
  private running = false;

  constructor(
    host: HTMLElement,
    private readonly channel: LiveChannel,
    private readonly ctx: PaneContext,
  ) {
    const screen = h('div', { class: 'terminal', 'data-testid': 'console-terminal' });
    const toolbar = h('div', { class: 'toolbar', role: 'toolbar', 'aria-label': 'Console' }, this.button, this.state);
    host.append(toolbar, this.hint, screen);
    new TerminalView(screen, channel, ctx.readOnly, 'Console');
    this.button.addEventListener('click', () => void this.toggle());
    ctx.bus.on('runRequest', (what) => void (what === 'run' ? this.run() : this.stop()));
    channel.onCommand((cmd) => this.onCommand(cmd));
    this.show(false);
  }

  private onCommand(cmd: api.Command): void {
    if (cmd.body === 'state') this.show(cmd.state === 1);
    else if (cmd.hint) this.hint.textContent = cmd.hint.text ?? '';
  }

  private show(running: boolean): void {
    this.running = running;
    const label = running ? 'Running' : 'Stopped';
    this.state.textContent = label;
    this.state.dataset.state = label;
    this.button.textContent = running ? 'Stop' : 'Run';
    this.button.classList.toggle('is-running', running);
    this.ctx.bus.emit('runState', label);
  }

  private async toggle(): Promise<void> {
    await (this.running ? this.stop() : this.run());
  }

  private async run(): Promise<void> {
    this.hint.textContent = '';
    this.ctx.bus.emit('showPane', 'console');
    const reply = await this.channel.request({ runMain: {} }).catch((e: Error) => ({ error: e.message }));
    if (reply.error) this.hint.textContent = reply.error;
  }

  private async stop(): Promise<void> {
    await this.channel.request({ clear: {} }).catch(() => null);
  }
}

registerPane({
  id: 'console',
  title: 'Console',
  slot: 'bottom',
  services: ['shellrun2'],
  minRole: 'write',
  order: 10,
  mount(host, ctx) {
    new RunConsole(host, ctx.conn.open('shellrun2', 'shellrunner'), ctx);
  },
});

registerPane({
  id: 'run',
  title: 'Run',
  slot: 'header',
  services: ['shellrun2'],
  minRole: 'write',
  order: 10,
  mount(host, ctx) {
    const button = h('button', { type: 'button', class: 'run', 'data-testid': 'run' }, '▶ Run');
    host.append(button);
    let running = false;
    ctx.bus.on('runState', (state) => {
      running = state === 'Running';
      button.textContent = running ? '■ Stop' : '▶ Run';
      button.classList.toggle('is-running', running);
    });
    button.addEventListener('click', () => ctx.bus.emit('runRequest', running ? 'stop' : 'run'));
  },
});
