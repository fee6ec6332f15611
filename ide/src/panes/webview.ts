/**
 * The Webview tab: a page a workspace program serves, through the server's port proxy
 * (`/proxy/<port>/`). Opens by itself when a process starts listening (channel-0 portOpen).
 * The frame is not sandboxed: proxied pages need their cookie-authenticated sub-requests,
 * and the program is the workspace's own code.
 */

import { h } from '../dom';
import { registerPane } from './registry';

registerPane({
  id: 'webview',
  title: 'Webview',
  slot: 'bottom',
  services: [],
  minRole: 'read',
  order: 40,
  mount(host, ctx) {
    const address = h('input', { type: 'text', 'aria-label': 'Webview address', readonly: true, class: 'webview-address' });
    const reload = h('button', { type: 'button' }, 'Reload');
    const external = h('a', { target: '_blank', rel: 'noopener', class: 'link' }, 'Open in a new tab');
    const frame = h('iframe', { title: 'Webview', class: 'webview', 'data-testid': 'webview' });
    const empty = h('p', { class: 'editor-empty' }, 'Nothing is listening yet: a program that opens a port shows up here.');
    host.append(h('div', { class: 'toolbar' }, address, reload, external), empty, frame);
    frame.hidden = true;
    external.hidden = true;
    const show = async (port: number) => {
      const url = `${window.location.origin}/proxy/${port}/`;
      // One request with the token makes the proxy set its cookie (scoped to this port's
      // path), so the frame's URL, and what the program's page can read of it, has no token.
      if (ctx.me.token) {
        const query = `?token=${encodeURIComponent(ctx.me.token)}`;
        await fetch(url + query, { credentials: 'same-origin' }).catch(() => null);
      }
      address.value = url;
      external.href = url;
      external.hidden = false;
      frame.src = url;
      frame.hidden = false;
      empty.hidden = true;
    };
    reload.addEventListener('click', () => {
      if (frame.src) frame.src = frame.src;
    });
    ctx.conn.onChannelZero((cmd) => {
      if (cmd.portOpen?.forwarded && cmd.portOpen.port) {
        void show(cmd.portOpen.port);
        ctx.bus.emit('showPane', 'webview');
      }
    });
  },
});
