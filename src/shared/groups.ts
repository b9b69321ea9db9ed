// Shared subscriptions across worker threads. Joins and leaves travel on the bus like messages, so
// every thread applies them at the same position and holds the same member lists; each message a
// group's filter matches advances the group's turn the same way on every thread, and only the
// thread of the member whose turn it is delivers. No coordination per message is needed.
import { FilterTrie } from '../topics/trie.js';

export interface Membership {
  group: string;
  filter: string;
  /** Connection id of the member. */
  member: string;
  thread: number;
  join: boolean;
}

export interface Member {
  id: string;
  thread: number;
}

interface Group {
  key: string;
  name: string;
  filter: string;
  members: Member[];
  turn: number;
}

export class SharedGroups {
  private readonly groups = new Map<string, Group>();
  private readonly trie = new FilterTrie<Group>();

  get size(): number {
    return this.groups.size;
  }

  apply(change: Membership): void {
    const key = groupKey(change.group, change.filter);
    let group = this.groups.get(key);
    if (change.join) {
      if (!group) {
        group = { key, name: change.group, filter: change.filter, members: [], turn: 0 };
        this.groups.set(key, group);
        this.trie.add(change.filter, group);
      }
      if (!group.members.some((m) => m.id === change.member)) group.members.push({ id: change.member, thread: change.thread });
      return;
    }
    if (!group) return;
    group.members = group.members.filter((m) => m.id !== change.member);
    if (group.members.length === 0) {
      this.groups.delete(key);
      this.trie.remove(change.filter, group);
    }
  }

  /** For each group matching `topic`, the member whose turn it is; turns advance. */
  choose(topic: string, each: (group: string, filter: string, member: Member) => void): void {
    this.trie.match(topic, (group) => each(group.name, group.filter, nextMember(group)));
  }

  /** The member of one group whose turn it is (turns advance), or null when the group has no members left. */
  chooseIn(name: string, filter: string): Member | null {
    const group = this.groups.get(groupKey(name, filter));
    return group ? nextMember(group) : null;
  }
}

function nextMember(group: Group): Member {
  const member = group.members[group.turn % group.members.length]!;
  group.turn = (group.turn + 1) % 0x40000000;
  return member;
}

/** Identifies a group: its name and filter (two groups of one name on different filters are distinct). */
export function groupKey(group: string, filter: string): string {
  return `${group}\u0000${filter}`;
}
