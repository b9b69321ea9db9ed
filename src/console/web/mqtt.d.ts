// The part of MQTT.js's browser bundle (mqtt.min.js, global `mqtt`) the console uses.
interface MqttPacket {
  retain: boolean;
  qos: number;
}

interface MqttBrowserClient {
  readonly connected: boolean;
  on(event: 'connect' | 'close' | 'offline' | 'reconnect', listener: () => void): this;
  on(event: 'error', listener: (error: Error) => void): this;
  on(event: 'message', listener: (topic: string, payload: Uint8Array, packet: MqttPacket) => void): this;
  subscribe(filter: string | string[], options: { qos: 0 | 1 | 2 }, callback?: (error: Error | null) => void): this;
  unsubscribe(filter: string | string[], callback?: (error?: Error) => void): this;
  publish(topic: string, payload: string | Uint8Array, options: { qos: 0 | 1 | 2; retain: boolean }, callback: (error?: Error) => void): this;
}

declare const mqtt: {
  connect(url: string, options: { clientId: string; clean: boolean; reconnectPeriod: number; protocolVersion: 4 | 5 }): MqttBrowserClient;
};
