#!/usr/bin/python3
"""A Modbus TCP server for the tests, on Debian's python3-pymodbus (3.0.0): a device nobody on the project wrote.

Usage: /usr/bin/python3 sunspec_server.py LAYOUT.json

LAYOUT.json: {"unit_id": 1, "holding": {"40000": [w, w, ...], ...}, "input": {"30000": [...]}}
Each key is the address of the first word of a block (zero-based, as on the wire); words are 0..65535.
Only the addresses given exist (a sparse block): reading any other is answered with the Modbus exception
"illegal data address", as a real device does, so a SunSpec base address that is not there is refused.

Listens on 127.0.0.1, on the layout's "port" or a free one, and prints {"port": N} on stdout once it
listens. Then reads one JSON command per line on stdin and answers each with one JSON line on stdout:
  {"cmd": "set", "table": "holding"|"input", "address": A, "words": [...]}  change values while running
  {"cmd": "pause"}   keep accepting connections and requests, answer none (a hung device)
  {"cmd": "resume"}  answer again
  {"cmd": "stats"}   {"ok": true, "requests": N}: requests answered so far
End of stdin (the test process died or closed it) stops the server.
"""
import asyncio
import json
import logging
import sys
import threading

# pymodbus's server module imports pyserial-asyncio for its serial transport: Debian's
# python3-serial-asyncio, only "Recommended" by python3-pymodbus, so scripts/install-system-deps.sh
# installs it by name.
from pymodbus.datastore import ModbusServerContext, ModbusSlaveContext, ModbusSparseDataBlock
from pymodbus.exceptions import NoSuchSlaveException
from pymodbus.server.async_io import ModbusTcpServer

logging.basicConfig(stream=sys.stderr, level=logging.CRITICAL)


class PausableContext(ModbusServerContext):
    """While paused, every unit looks missing; with ignore_missing_slaves the server then sends nothing."""

    paused = False
    requests = 0

    def __getitem__(self, slave):
        if self.paused:
            raise NoSuchSlaveException("paused by the test")
        self.requests += 1
        return super().__getitem__(slave)


def block(table):
    values = {}
    for start, words in table.items():
        for i, w in enumerate(words):
            if not isinstance(w, int) or w < 0 or w > 0xFFFF:
                raise ValueError(f"word {i} of block {start} is not 0..65535: {w!r}")
            values[int(start) + i] = w
    # a sparse block with no addresses at all is refused by pymodbus; an unused table keeps one dummy word
    return ModbusSparseDataBlock(values or {0xFFFF: 0})


def say(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


async def main(layout_path):
    with open(layout_path, encoding="utf-8") as f:
        layout = json.load(f)
    unit = int(layout.get("unit_id", 1))
    slave = ModbusSlaveContext(hr=block(layout.get("holding", {})), ir=block(layout.get("input", {})), zero_mode=True)
    context = PausableContext(slaves={unit: slave}, single=False)
    server = ModbusTcpServer(context, address=("127.0.0.1", int(layout.get("port", 0))), ignore_missing_slaves=True, allow_reuse_address=True)
    serving = asyncio.create_task(server.serve_forever())
    await server.serving
    say({"port": server.server.sockets[0].getsockname()[1]})

    loop = asyncio.get_running_loop()
    done = loop.create_future()

    def command(line):
        try:
            cmd = json.loads(line)
            name = cmd.get("cmd")
            if name == "set":
                fc = {"holding": 3, "input": 4}[cmd["table"]]
                slave.setValues(fc, int(cmd["address"]), [int(w) & 0xFFFF for w in cmd["words"]])
                say({"ok": True})
            elif name == "pause":
                context.paused = True
                say({"ok": True})
            elif name == "resume":
                context.paused = False
                say({"ok": True})
            elif name == "stats":
                say({"ok": True, "requests": context.requests})
            else:
                say({"ok": False, "error": f"unknown command {name!r}"})
        except Exception as exc:  # pylint: disable=broad-except
            say({"ok": False, "error": str(exc)})

    def read_stdin():
        for line in sys.stdin:
            if line.strip():
                loop.call_soon_threadsafe(command, line)
        loop.call_soon_threadsafe(lambda: done.done() or done.set_result(None))

    threading.Thread(target=read_stdin, daemon=True).start()
    await done
    await server.shutdown()
    serving.cancel()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))
