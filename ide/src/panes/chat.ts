/**
 * The chat panel (`chat`, named "chat"): the scrollback greeting, messages from others (the
 * server never echoes ours, so we show our own as sent), and "… is typing".
 */

import type { api } from '@replit/protocol';
import type { LiveChannel } from '../connection';
import { colourFor, h } from '../dom';
import { registerPane, type PaneContext } from './registry';

class ChatPanel {
  private readonly log = h('div', { class: 'chat-log', role: 'log', 'aria-live': 'polite', 'aria-label': 'Chat messages' });
  private readonly typing = h('p', { class: 'chat-typing', 'aria-live': 'polite' });
  private readonly input = h('input', { type: 'text', 'aria-label': 'Message', placeholder: 'Message everyone…', autocomplete: 'off' });
  private readonly typists = new Map<string, number>();
  /** Names to user ids from presence, so a name has the colour of its avatar and cursor. */
  private readonly ids = new Map<string, number>();
  private typingSent = false;
  private typingTimer: number | undefined;

  constructor(
    host: HTMLElement,
    private readonly channel: LiveChannel,
    private readonly ctx: PaneContext,
  ) {
    const form = h('form', { class: 'chat-form' }, this.input, h('button', { type: 'submit' }, 'Send'));
    host.append(h('h2', { class: 'pane-title' }, 'Chat'), this.log, this.typing, form);
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      this.send();
    });
    this.input.addEventListener('input', () => this.setTyping(this.input.value.length > 0));
    // A reconnect greets with the whole scrollback again: start from an empty log.
    channel.onOpen(() => this.log.replaceChildren());
    channel.onCommand((cmd) => this.onCommand(cmd));
    ctx.bus.on('members', (members) => {
      for (const member of members) this.ids.set(member.name, member.id);
    });
  }

  private onCommand(cmd: api.Command): void {
    if (cmd.chatScrollback) {
      this.log.replaceChildren();
      for (const message of cmd.chatScrollback.scrollback ?? []) this.append(message.username ?? '', message.text ?? '');
    } else if (cmd.chatMessage) {
      const name = cmd.chatMessage.username ?? '';
      this.append(name, cmd.chatMessage.text ?? '');
      this.typists.delete(name);
      this.showTypists();
    } else if (cmd.chatTyping) {
      const name = cmd.chatTyping.username ?? '';
      if (cmd.chatTyping.typing) this.typists.set(name, Date.now());
      else this.typists.delete(name);
      this.showTypists();
    }
  }

  private append(name: string, text: string): void {
    const who = h('span', { class: 'chat-name' }, name);
    const known = name === this.ctx.me.name ? this.ctx.me.userId : this.ids.get(name);
    // Someone who already left has no presence entry: any stable number will do.
    who.style.color = colourFor(known ?? [...name].reduce((sum, c) => sum * 31 + c.charCodeAt(0), 7) % 9973);
    this.log.append(h('p', { class: 'chat-message' }, who, h('span', { class: 'chat-text' }, text)));
    this.log.scrollTop = this.log.scrollHeight;
  }

  private showTypists(): void {
    const names = [...this.typists.keys()];
    this.typing.textContent = names.length === 0 ? '' : `${names.join(', ')} ${names.length > 1 ? 'are' : 'is'} typing…`;
  }

  private setTyping(typing: boolean): void {
    window.clearTimeout(this.typingTimer);
    if (typing) this.typingTimer = window.setTimeout(() => this.setTyping(false), 3000);
    if (typing === this.typingSent) return;
    this.typingSent = typing;
    this.channel.send({ chatTyping: { username: this.ctx.me.name, typing } });
  }

  private send(): void {
    const text = this.input.value.trim();
    if (!text) return;
    if (!this.channel.send({ chatMessage: { username: this.ctx.me.name, text } })) return;
    this.append(this.ctx.me.name, text);
    this.input.value = '';
    this.setTyping(false);
  }
}

registerPane({
  id: 'chat',
  title: 'Chat',
  slot: 'aside',
  services: ['chat'],
  minRole: 'read',
  order: 20,
  mount(host, ctx) {
    new ChatPanel(host, ctx.conn.open('chat', 'chat'), ctx);
  },
});
