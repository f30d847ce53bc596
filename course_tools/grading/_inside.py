"""The learner's side of grading: runs in the sandbox, executes cells, calls the learner's functions.

    python -m course_tools.grading._inside [--drop-to UID:GID] [--max-processes N]
                                           [--memory-bytes N] [--file-bytes N]

Started by :mod:`.sandbox` with its standard input and output as the only channel to the
grader (messages of :mod:`.wire`). It sets its limits, drops to an unprivileged user when
started as root, moves the channel to private descriptors (the learner's prints go to a
bounded buffer, C-level output to a file in the sandbox's capped ``/tmp``), then answers:

* ``run_cell``: run one cell's source in an IPython shell; reply with the error it raised, if
  any, and the tail of what it printed;
* ``describe``: what a name in the notebook is (missing, a function and its parameters, or
  another value, sent as data);
* ``call``: call the learner's function on arguments sent as data, right after setting the
  seed the check set; reply with its result (or the exception it raised) as data, and the
  arguments as they are after the call.

Nothing here is trusted: the learner's code runs in this process and can change any of it.
All it can change is the data sent back, which the grader validates and judges itself.
"""

from __future__ import annotations

import argparse
import io
import os
import sys

OUTPUT_TAIL = 4000  # characters of a cell's printed output sent back
TMP = os.environ.get("TMPDIR", "/tmp")  # the sandbox's private /tmp (a folder of its own with --trusted)


class _Tail(io.TextIOBase):
    """A text stream that keeps only the last characters written to it."""

    def __init__(self) -> None:
        self.text = ""

    def writable(self) -> bool:
        return True

    def write(self, text) -> int:
        text = str(text)
        self.text = (self.text + text)[-OUTPUT_TAIL:]
        return len(text)

    def take(self) -> str:
        text, self.text = self.text, ""
        return text


def _limit(memory_bytes: int, file_bytes: int, max_processes: int) -> None:
    import resource

    limits = [(resource.RLIMIT_CORE, 0)]
    if memory_bytes > 0:
        limits.append((resource.RLIMIT_AS, memory_bytes))
    if file_bytes > 0:
        limits.append((resource.RLIMIT_FSIZE, file_bytes))
    if max_processes > 0:
        limits.append((resource.RLIMIT_NPROC, max_processes))
    for which, value in limits:
        resource.setrlimit(which, (value, value))


def _drop(user: str) -> None:
    uid, gid = (int(part) for part in user.split(":"))
    os.setgroups([])
    os.setgid(gid)
    os.setuid(uid)
    if os.getuid() != uid or os.geteuid() != uid:
        raise SystemExit("could not drop privileges")


def _private_channel():
    """The grader's channel on new descriptors; 0 from /dev/null, 1 and 2 to a capped file."""
    reader = os.fdopen(os.dup(0), "rb", buffering=0)
    writer = os.fdopen(os.dup(1), "wb", buffering=0)
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    log = os.open(os.path.join(TMP, "notebook-output.log"), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    os.dup2(log, 1)
    os.dup2(log, 2)
    return reader, writer


def _read_exact(reader, n: int) -> bytes:
    parts, left = [], n
    while left:
        chunk = reader.read(min(left, 1 << 20))
        if not chunk:
            raise SystemExit(0)  # the grader closed the channel
        parts.append(chunk)
        left -= len(chunk)
    return b"".join(parts)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="_inside")
    parser.add_argument("--drop-to", default="")
    parser.add_argument("--max-processes", type=int, default=0)
    parser.add_argument("--memory-bytes", type=int, default=0)
    parser.add_argument("--file-bytes", type=int, default=0)
    args = parser.parse_args(argv)
    _limit(args.memory_bytes, args.file_bytes, args.max_processes)
    if args.drop_to:
        _drop(args.drop_to)
    diagnostics = os.fdopen(os.dup(2), "w")  # the grader keeps the tail of this
    for folder in ("home", "work"):  # made by the unprivileged user: theirs to write in
        os.makedirs(os.path.join(TMP, folder), exist_ok=True)
    os.chdir(os.path.join(TMP, "work"))
    reader, writer = _private_channel()
    try:
        _serve(reader, writer)
    except SystemExit:
        raise
    except BaseException:  # noqa: BLE001 - the runner broke (e.g. IPython would not start)
        import traceback

        diagnostics.write(traceback.format_exc()[-2000:])
        diagnostics.flush()
        raise SystemExit(1) from None


def _serve(reader, writer) -> None:

    from course_tools.grading import wire

    def send(header: dict, blobs=()) -> None:
        writer.write(wire.pack(header, list(blobs)))

    tail = _Tail()
    sys.stdout = sys.stderr = tail
    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell.instance(colors="NoColor")
    send({"op": "ready"})
    while True:
        header, blobs = wire.read_message(lambda n: _read_exact(reader, n))
        op = header.get("op")
        if op == "run_cell":
            result = shell.run_cell(header["source"], store_history=True)
            error = result.error_before_exec or result.error_in_exec
            _close_figures()
            found = None if error is None else [type(error).__name__, str(error)[:1000]]
            send({"op": "cell_done", "error": found, "output": tail.take()})
        elif op == "describe":
            send(*_describe(shell.user_ns, header["name"], wire))
        elif op == "call":
            send(*_call(shell.user_ns, header, blobs, wire))
        else:
            return


def _describe(namespace: dict, name: str, wire):
    if name not in namespace:
        return {"op": "described", "kind": "missing"}, []
    value = namespace[name]
    if callable(value):
        import inspect

        try:
            parameters = [[p.name, p.kind.name] for p in inspect.signature(value).parameters.values()]
        except (TypeError, ValueError):
            parameters = None
        return {"op": "described", "kind": "function", "parameters": parameters}, []
    encoder = wire.Encoder(TMP, datasets="recording")
    return {"op": "described", "kind": "value", "value": encoder.encode(value)}, encoder.blobs


def _call(namespace: dict, header: dict, blobs: list, wire):
    function = namespace.get(header["name"])
    *args, kwargs = wire.Decoder(blobs, TMP).decode(header["args"])
    wire.set_seed(header.get("seed"))
    try:
        return wire.answer_call(function, args, kwargs, TMP)
    finally:
        _close_figures()


def _close_figures() -> None:
    if "matplotlib.pyplot" in sys.modules:
        sys.modules["matplotlib.pyplot"].close("all")


if __name__ == "__main__":
    main()
