// MQTT 5 topic aliases [MQTT-3.3.2.3.4]: a client may replace a topic by a number it set earlier
// on the same connection, and so may the server towards a client. Pure code, no HarperDB.

export type AliasResult = { topic: string } | { reasonCode: number; reason: string };

/** Aliases a client sets on its PUBLISH packets; the broker offers `maximum` of them in CONNACK. */
export class InboundAliases {
  private readonly topics = new Map<number, string>();

  constructor(private readonly maximum: number) {}

  resolve(topic: string, alias: number | undefined): AliasResult {
    if (alias === undefined) return { topic };
    // 0 and values over the maximum are a Protocol Error: DISCONNECT with 0x94 [MQTT-3.3.2-8, -9].
    if (alias === 0 || alias > this.maximum) return { reasonCode: 0x94, reason: `topic alias ${alias} is not between 1 and ${this.maximum}` };
    if (topic !== '') {
      this.topics.set(alias, topic);
      return { topic };
    }
    const known = this.topics.get(alias);
    if (known === undefined) return { reasonCode: 0x82, reason: `topic alias ${alias} was never set` };
    return { topic: known };
  }
}

/**
 * Aliases the broker uses towards a client that offered `maximum` of them: the first
 * `maximum` topics get one each; a topic sent again goes out as its alias and an empty topic.
 */
export class OutboundAliases {
  private readonly aliases = new Map<string, number>();

  constructor(private readonly maximum: number) {}

  /** The alias to put on a PUBLISH of `topic`, and whether the topic itself must go too; null: none. */
  use(topic: string): { alias: number; withTopic: boolean } | null {
    const known = this.aliases.get(topic);
    if (known !== undefined) return { alias: known, withTopic: false };
    if (this.aliases.size >= this.maximum) return null;
    const alias = this.aliases.size + 1;
    this.aliases.set(topic, alias);
    return { alias, withTopic: true };
  }
}
