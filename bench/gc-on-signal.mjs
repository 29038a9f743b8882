// Preloaded only into the memory-test gateway, which also runs with --expose-gc: SIGUSR2
// runs a full garbage collection, so that "memory after N requests" is compared at settled
// points and garbage not yet collected is not mistaken for growth (or hides it).
process.on('SIGUSR2', () => globalThis.gc?.());
