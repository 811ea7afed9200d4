"""Phase marks for cgprof, dependency-free (Python 3.6+). Copy this file next to your script.

    from cgprof_phase import cgprof_phase, mark

    with cgprof_phase("load"):
        model = load_model()
    for x in inputs:
        with cgprof_phase("infer"):
            model(x)

Under `cgprof run`, $CGPROF_MARK names a FIFO that cgprof reads; each mark is one line written
to it ("NAME" starts phase NAME and ends the current one, "-" ends the current phase) and
timestamped by cgprof on receipt. Phases do not nest: starting one ends the one before. Outside
cgprof (no $CGPROF_MARK) every call does nothing. A mark never blocks: if cgprof's buffer is
full it is dropped and counted in `dropped`.
"""
import os

__all__ = ["cgprof_phase", "mark", "end", "dropped"]

dropped = 0  # marks lost because the FIFO was full (cgprof fell behind)
_fd = None  # None: not opened yet; -1: no cgprof here


def _mark_fd():
    global _fd
    if _fd is None:
        path = os.environ.get("CGPROF_MARK")
        _fd = -1
        if path:
            try:
                _fd = os.open(path, os.O_WRONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
            except OSError:
                pass
    return _fd


def mark(name):
    """Starts phase `name` (ending the current one); "-" ends the current phase.
    Returns True when cgprof got the mark."""
    global dropped
    fd = _mark_fd()
    if fd < 0:
        return False
    line = (str(name).replace("\n", " ") + "\n").encode("utf-8", "replace")
    try:
        # One write of less than PIPE_BUF bytes: atomic, so marks of several processes never mix.
        return os.write(fd, line[:4096]) > 0
    except BlockingIOError:
        dropped += 1
    except OSError:
        pass
    return False


def end():
    """Ends the current phase."""
    return mark("-")


class cgprof_phase:
    """Context manager and decorator: the block (or each call) is one occurrence of `name`."""

    def __init__(self, name):
        self.name = name

    def __enter__(self):
        mark(self.name)
        return self

    def __exit__(self, *exc):
        end()
        return False

    def __call__(self, fn):
        def wrapped(*args, **kwargs):
            with cgprof_phase(self.name):
                return fn(*args, **kwargs)
        wrapped.__name__ = getattr(fn, "__name__", "wrapped")
        wrapped.__doc__ = getattr(fn, "__doc__", None)
        return wrapped
