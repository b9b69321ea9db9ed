// A topic-filter trie: each thread keeps its live subscriptions here so one walk per message
// finds every matching subscription, whatever the number of filters.

class TrieNode<V> {
  children = new Map<string, TrieNode<V>>();
  /** Values whose filter ends at this node. */
  exact = new Set<V>();
  /** Values whose filter ends with '#' right below this node. */
  hash = new Set<V>();

  isEmpty(): boolean {
    return this.children.size === 0 && this.exact.size === 0 && this.hash.size === 0;
  }
}

export class FilterTrie<V> {
  private root = new TrieNode<V>();
  private count = 0;

  get size(): number {
    return this.count;
  }

  add(filter: string, value: V): void {
    let node = this.root;
    const levels = filter.split('/');
    for (let i = 0; i < levels.length; i++) {
      const level = levels[i]!;
      if (level === '#') {
        if (!node.hash.has(value)) this.count++;
        node.hash.add(value);
        return;
      }
      let child = node.children.get(level);
      if (!child) node.children.set(level, (child = new TrieNode<V>()));
      node = child;
    }
    if (!node.exact.has(value)) this.count++;
    node.exact.add(value);
  }

  remove(filter: string, value: V): boolean {
    const levels = filter.split('/');
    const isHash = levels[levels.length - 1] === '#';
    const depth = isHash ? levels.length - 1 : levels.length;
    // path[i] is the node reached after i levels; path[depth] holds the value.
    const path: TrieNode<V>[] = [this.root];
    for (let i = 0; i < depth; i++) {
      const next = path[i]!.children.get(levels[i]!);
      if (!next) return false;
      path.push(next);
    }
    const holder = path[depth]!;
    if (!(isHash ? holder.hash.delete(value) : holder.exact.delete(value))) return false;
    this.count--;
    // Prune empty branches so a long-lived broker does not keep nodes for dead filters.
    for (let i = depth; i > 0 && path[i]!.isEmpty(); i--) path[i - 1]!.children.delete(levels[i - 1]!);
    return true;
  }

  /** Calls `visit` for each value whose filter matches `topic` (once per filter it was added with). */
  match(topic: string, visit: (value: V) => void): void {
    const levels = topic.split('/');
    const dollar = topic.charCodeAt(0) === 36; /* $ */
    this.walk(this.root, levels, 0, dollar, visit);
  }

  private walk(node: TrieNode<V>, levels: string[], depth: number, dollar: boolean, visit: (value: V) => void): void {
    // [MQTT-4.7.2-1]: wildcards in the first level do not match '$' topics.
    const wildcardsAllowed = !(dollar && depth === 0);
    if (wildcardsAllowed) for (const value of node.hash) visit(value);
    if (depth === levels.length) {
      for (const value of node.exact) visit(value);
      return;
    }
    const exactChild = node.children.get(levels[depth]!);
    if (exactChild) this.walk(exactChild, levels, depth + 1, dollar, visit);
    if (wildcardsAllowed) {
      const plusChild = node.children.get('+');
      if (plusChild) this.walk(plusChild, levels, depth + 1, dollar, visit);
    }
  }
}
