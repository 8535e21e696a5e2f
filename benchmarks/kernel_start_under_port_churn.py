"""Do report kernels start while other processes take ephemeral ports? By hand, not in CI.

Why: CI once failed with "Kernel died before replying to kernel_info". Over TCP,
jupyter_client picks free ports by binding and releasing them; the kernel binds them a
moment later, and whatever binds or connects in between (a parallel test worker, Spark's
JVM, a second scheduled report) can take one. This runs a one-cell notebook through
papermill N times while two processes keep binding and releasing thousands of ports, once
with jupyter_client's default kernel manager (TCP) and once with the runner's
(:func:`collections_lab.reporting.runner.kernel_manager_class`, a private Unix socket),
and prints a Markdown row per manager for ``benchmarks/RESULTS.md``.

Run: ``.venv/bin/python benchmarks/kernel_start_under_port_churn.py [--runs 15]``
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import socket
import tempfile
import time
from pathlib import Path

import nbformat

#: Ports each churning process holds at once (released every 50 ms).
HELD_PORTS = 3000


def _churn(stop) -> None:
    while not stop.is_set():
        held = []
        for _ in range(HELD_PORTS):
            sock = socket.socket()
            try:
                sock.bind(("127.0.0.1", 0))
                held.append(sock)
            except OSError:
                sock.close()
        time.sleep(0.05)
        for sock in held:
            sock.close()


def _failures(manager_class, notebook: Path, runs: int) -> tuple[int, list[str]]:
    import papermill

    errors = []
    for _ in range(runs):
        try:
            papermill.execute_notebook(str(notebook), str(notebook.with_name("out.ipynb")),
                                       kernel_name="python3", kernel_manager_class=manager_class,
                                       progress_bar=False, start_timeout=30)
        except Exception as exc:  # noqa: BLE001 - counting every way a start fails
            errors.append(f"{type(exc).__name__}: {str(exc)[:80]}")
    return len(errors), sorted(set(errors))


def main() -> None:
    from jupyter_client.manager import AsyncKernelManager

    from collections_lab.reporting.runner import kernel_manager_class

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    notebook = Path(tempfile.mkdtemp()) / "one_cell.ipynb"
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("1 + 1")]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, notebook)
    stop = mp.Event()
    churners = [mp.Process(target=_churn, args=(stop,)) for _ in range(2)]
    for proc in churners:
        proc.start()
    try:
        print("| kernel manager | runs | failed to start | errors |\n|---|---:|---:|---|")
        for name, cls in [("jupyter_client default (TCP)", AsyncKernelManager),
                          ("runner's kernel_manager_class (Unix socket)", kernel_manager_class())]:
            failed, errors = _failures(cls, notebook, args.runs)
            print(f"| {name} | {args.runs} | {failed} | {'; '.join(errors) or '—'} |", flush=True)
    finally:
        stop.set()
        for proc in churners:
            proc.join()


if __name__ == "__main__":
    main()
