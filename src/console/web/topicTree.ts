// The live topic tree: one node per topic level, with message counts, a decaying message rate and
// the last payload. Each message touches only the nodes on its path, and the page draws only the
// expanded part, so 10,000 topics cost little. Pure code (browser and unit tests).

/** Rates average over about this long (exponential decay). */
export const RATE_SECONDS = 5;

export interface LastMessage {
  payload: Uint8Array;
  retain: boolean;
  qos: number;
  /** Epoch ms the page received it. */
  at: number;
}

export class TopicNode {
  readonly children = new Map<string, TopicNode>();
  /** Messages on this exact topic since the page opened. */
  messages = 0;
  /** Messages on this topic and every topic below it. */
  total = 0;
  /** Topics with a message at or below this node. */
  topics = 0;
  last: LastMessage | null = null;
  private rateValue = 0;
  private rateAt = 0;

  constructor(
    readonly name: string,
    /** The full topic; '' for the root. */
    readonly topic: string,
    readonly parent: TopicNode | null,
  ) {}

  /** Messages per second at or below this node, averaged over about RATE_SECONDS. */
  rate(now: number): number {
    return this.rateValue * Math.exp(-(now - this.rateAt) / 1000 / RATE_SECONDS);
  }

  count(now: number): void {
    this.rateValue = this.rate(now) + 1 / RATE_SECONDS;
    this.rateAt = now;
    this.total++;
  }

  /** Children by name, at most `limit` of them. */
  sortedChildren(limit = Infinity): TopicNode[] {
    const names = [...this.children.keys()].sort();
    return names.slice(0, limit).map((name) => this.children.get(name)!);
  }
}

export class TopicTree {
  readonly root = new TopicNode('', '', null);
  /** Bumped on every change, so the page redraws only when something happened. */
  version = 0;

  get size(): number {
    return this.root.topics;
  }

  record(topic: string, last: LastMessage): TopicNode {
    let node = this.root;
    const path: TopicNode[] = [node];
    for (const level of topic.split('/')) {
      let child = node.children.get(level);
      if (!child) {
        child = new TopicNode(level, node === this.root ? level : `${node.topic}/${level}`, node);
        node.children.set(level, child);
      }
      node = child;
      path.push(node);
    }
    const isNew = node.messages === 0;
    node.messages++;
    node.last = last;
    for (const step of path) {
      step.count(last.at);
      if (isNew) step.topics++;
    }
    this.version++;
    return node;
  }

  find(topic: string): TopicNode | undefined {
    let node: TopicNode | undefined = this.root;
    for (const level of topic.split('/')) {
      node = node.children.get(level);
      if (!node) return undefined;
    }
    return node;
  }
}

export interface VisibleRow {
  node: TopicNode;
  depth: number;
  /** A "more" row: `hidden` further children of `node` are not shown. */
  hidden?: number;
}

/**
 * The rows to draw: the root's children and the children of every expanded node, at most
 * `perLevel` children of a node (then a "more" row), at most `maxRows` in all.
 */
export function visibleRows(tree: TopicTree, expanded: ReadonlySet<string>, perLevel: (topic: string) => number, maxRows = 2000): VisibleRow[] {
  const rows: VisibleRow[] = [];
  const walk = (node: TopicNode, depth: number): void => {
    const limit = perLevel(node.topic);
    for (const child of node.sortedChildren(limit)) {
      if (rows.length >= maxRows) return;
      rows.push({ node: child, depth });
      if (expanded.has(child.topic) && child.children.size > 0) walk(child, depth + 1);
    }
    if (node.children.size > limit && rows.length < maxRows) rows.push({ node, depth, hidden: node.children.size - limit });
  };
  walk(tree.root, 0);
  return rows;
}
