// Preloaded (`node --import`) into every server the benchmark starts. The benchmark keeps
// the write end of each child's stdin; when the benchmark process is gone for any reason
// (crash, SIGKILL, a CI runner timing out) the pipe closes and the child exits instead of
// lingering as an orphan server on a loopback port. The servers never read stdin.
// Plain JavaScript so it loads before any TypeScript loader hook matters.
const leave = () => process.exit(0);
process.stdin.on('end', leave);
process.stdin.on('close', leave);
process.stdin.on('error', leave);
process.stdin.resume();
