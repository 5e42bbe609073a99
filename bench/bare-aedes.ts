/**
 * The reference for QoS 1: aedes (the project's own version) with no authentication, no validation, no
 * store, acknowledging each publish as soon as aedes does. Run as its own process by bench/compare.ts;
 * prints {"port": N} once it listens and stops when stdin closes.
 */
import net from 'node:net';
import { Aedes } from 'aedes';

const aedes = await Aedes.createBroker();
const server = net.createServer(aedes.handle);
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({ port: (server.address() as net.AddressInfo).port })}\n`);
});
process.stdin.resume();
process.stdin.on('end', () => {
  server.close();
  aedes.close(() => process.exit(0));
});
