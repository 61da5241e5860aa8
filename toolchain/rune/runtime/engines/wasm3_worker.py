"""The wasm3 worker process: runs a rune's module in the wasm3 interpreter on behalf of a host.

Protocol (pickled tuples over two pipes): the host sends ("load", module), then ("call", export);
the worker answers ("done", result), ("trap", message) or ("error", message). While a call runs,
each import becomes ("import", name, args) to the host, which may ask to ("read", address,
length) the module's memory (answered with ("data", bytes)) or ("write", address, data) it (not
answered: the pipe keeps the order, so a later read sees the write) before it sends ("return",
value).
wasm3 prints trap backtraces on stdout, so the protocol uses its own file descriptors.
"""

from __future__ import annotations

import sys
from multiprocessing.connection import Connection

from rune import abi


def serve(inbox: Connection, outbox: Connection) -> None:
    import wasm3

    runtime = None
    while True:
        try:
            message = inbox.recv()
        except EOFError:
            return
        command = message[0]
        if command == "load":
            try:
                environment = wasm3.Environment()
                runtime = environment.new_runtime(64 * 1024)
                module = environment.parse_module(message[1])
                runtime.load(module)
                for name, (params, _) in abi.IMPORTS.items():
                    module.link_function(abi.IMPORT_MODULE, name, f"i({'i' * len(params)})",
                                         _forward(name, runtime, inbox, outbox))
                outbox.send(("done", 0))
            except Exception as e:  # wasm3 reports every load problem as RuntimeError
                outbox.send(("error", str(e)))
        elif command == "call":
            try:
                result = runtime.find_function(message[1])()
                outbox.send(("done", 0 if result is None else int(result)))
            except RuntimeError as e:
                outbox.send(("trap", str(e).replace("[trap] ", "")))
            except Exception as e:
                outbox.send(("error", f"{type(e).__name__}: {e}"))
        elif command == "read":  # outside a call: the status block
            outbox.send(("data", _read(runtime, message[1], message[2])))


def _read(runtime, address: int, length: int) -> bytes:
    memory = runtime.get_memory(0)
    if address < 0 or length < 0 or address + length > len(memory):
        return b""
    return bytes(memory[address:address + length])


def _forward(name: str, runtime, inbox: Connection, outbox: Connection):
    """An import that asks the host to run `name`, serving its memory requests meanwhile."""
    def call(*args):
        outbox.send(("import", name, args))
        while True:
            message = inbox.recv()
            if message[0] == "return":
                return message[1]
            if message[0] == "read":
                outbox.send(("data", _read(runtime, message[1], message[2])))
            elif message[0] == "write":
                memory = runtime.get_memory(0)  # fetched anew: a cached view can go stale
                address, data = message[1], message[2]
                if 0 <= address and address + len(data) <= len(memory):  # (the host checked it)
                    memory[address:address + len(data)] = data
    return call


if __name__ == "__main__":
    serve(Connection(int(sys.argv[1])), Connection(int(sys.argv[2])))
