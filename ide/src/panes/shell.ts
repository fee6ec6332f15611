/** The Shell tab: the workspace's shared login shell (`shell`, named "shell"). */

import { h } from '../dom';
import { registerPane } from './registry';
import { TerminalView } from './terminal';

registerPane({
  id: 'shell',
  title: 'Shell',
  slot: 'bottom',
  services: ['shell'],
  minRole: 'write',
  order: 20,
  mount(host, ctx) {
    const screen = h('div', { class: 'terminal', 'data-testid': 'shell-terminal' });
    host.append(screen);
    new TerminalView(screen, ctx.conn.open('shell', 'shell'), ctx.readOnly, 'Shell terminal');
  },
});
