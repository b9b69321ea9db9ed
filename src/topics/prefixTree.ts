// Topic tables arranged by prefix levels, to find which tables can hold retained messages that
// match a filter without scanning every table.
import { prefixLevels } from './naming.js';

class PrefixNode<V> {
  children = new Map<string, PrefixNode<V>>();
  value: V | undefined;
}

export interface TableCandidate<V> {
  value: V;
  /** The row id when the filter names it exactly, null when every row must be checked. */
  row: string | null;
}

export class PrefixTree<V> {
  private root = new PrefixNode<V>();

  set(prefix: string, value: V): void {
    let node = this.root;
    for (const level of prefixLevels(prefix)) {
      let child = node.children.get(level);
      if (!child) node.children.set(level, (child = new PrefixNode<V>()));
      node = child;
    }
    node.value = value;
  }

  get(prefix: string): V | undefined {
    let node: PrefixNode<V> | undefined = this.root;
    for (const level of prefixLevels(prefix)) node = node?.children.get(level);
    return node?.value;
  }

  /**
   * Tables whose rows can match `filter`. A node at depth d holds topics of d + 1 levels.
   * Candidates may still hold rows that do not match (e.g. '$' rows under a root wildcard);
   * callers check each row with topicMatches.
   */
  candidates(filter: string): TableCandidate<V>[] {
    const found: TableCandidate<V>[] = [];
    this.walk(this.root, filter.split('/'), 0, found);
    return found;
  }

  private walk(node: PrefixNode<V>, levels: string[], depth: number, found: TableCandidate<V>[]): void {
    const level = levels[depth];
    if (level === undefined) return;
    if (level === '#') {
      this.collect(node, depth, found);
      return;
    }
    const rowLevelIsLast = depth === levels.length - 1 || (depth === levels.length - 2 && levels[depth + 1] === '#');
    if (node.value !== undefined && rowLevelIsLast) found.push({ value: node.value, row: level === '+' ? null : level });
    if (level === '+') {
      for (const [name, child] of node.children) {
        if (depth === 0 && name.startsWith('$')) continue; // [MQTT-4.7.2-1]
        this.walk(child, levels, depth + 1, found);
      }
    } else {
      const child = node.children.get(level);
      if (child) this.walk(child, levels, depth + 1, found);
    }
  }

  private collect(node: PrefixNode<V>, depth: number, found: TableCandidate<V>[]): void {
    if (node.value !== undefined) found.push({ value: node.value, row: null });
    for (const [name, child] of node.children) {
      if (depth === 0 && name.startsWith('$')) continue; // [MQTT-4.7.2-1]
      this.collect(child, depth + 1, found);
    }
  }
}
