// kafkajs 2.2.4 schedules its request-queue timer with a negative delay on Node >= 24, which
// Node reports as a TimeoutNegativeWarning (the timer then fires after 1 ms, as kafkajs meant).
// We drop exactly that warning and print every other one as Node would.

let installed = false;

export function quietKnownWarnings(): void {
  if (installed) return;
  installed = true;
  process.removeAllListeners('warning');
  process.on('warning', (warning) => {
    if (warning.name === 'TimeoutNegativeWarning') return;
    // Jest's ESM support needs --experimental-vm-modules; its warning is expected.
    if (warning.name === 'ExperimentalWarning' && warning.message.startsWith('VM Modules')) return;
    process.stderr.write(`(node:${process.pid}) ${warning.name}: ${warning.message}\n`);
  });
}
