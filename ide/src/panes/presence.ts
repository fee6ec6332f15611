/**
 * Who is here (`presence`, named "presence"): avatars in the header, one per session, in the
 * users' colours (the same colours as their cursors). Publishes the roster on the bus.
 */

import type { api } from '@replit/protocol';
import type { Member } from '../bus';
import { badgeFor, colourFor, h, initials } from '../dom';
import { registerPane } from './registry';

function memberOf(user: api.IUser): Member {
  return { id: user.id ?? 0, name: user.name ?? '', session: user.session ?? 0 };
}

registerPane({
  id: 'presence',
  title: 'People here',
  slot: 'header',
  services: ['presence'],
  minRole: 'read',
  order: 20,
  mount(host, ctx) {
    const list = h('ul', { class: 'avatars', 'aria-label': 'People here', 'data-testid': 'presence' });
    host.append(list);
    let members: Member[] = [];
    const render = () => {
      list.replaceChildren(
        ...members.map((member) => {
          const avatar = h('li', { class: 'avatar', title: member.name, 'data-name': member.name }, initials(member.name));
          avatar.style.background = badgeFor(member.id);
          avatar.style.boxShadow = `0 0 0 2px ${colourFor(member.id)}`;
          avatar.setAttribute('aria-label', member.name);
          return avatar;
        }),
      );
      ctx.bus.emit('members', members);
    };
    const channel = ctx.conn.open('presence', 'presence');
    channel.onCommand((cmd) => {
      if (cmd.roster) members = (cmd.roster.user ?? []).map(memberOf);
      else if (cmd.join) members = [...members, memberOf(cmd.join)];
      else if (cmd.part) {
        const gone = memberOf(cmd.part).session;
        members = members.filter((member) => member.session !== gone);
      } else return;
      render();
    });
  },
});
