// For the exactly-once test only. With MQTT_BRIDGE_TEST_CRASH_AFTER_CHUNKS=n, the thread that
// commits its n-th chunk of source messages kills the whole HarperDB process (SIGKILL: no shutdown)
// right after those messages commit and before anything else is written. That is the moment a
// position stored apart from its messages would be behind them; the test restarts HarperDB and
// counts. Unset (always, outside that test): nothing happens.
const limit = Number(process.env.MQTT_BRIDGE_TEST_CRASH_AFTER_CHUNKS ?? 0);
let chunks = 0;

export function crashPointAfterMessages(): void {
  if (limit > 0 && ++chunks >= limit) process.kill(process.pid, 'SIGKILL');
}
