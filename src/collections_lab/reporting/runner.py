"""Run one report notebook with papermill and publish it only if it succeeded.

A run executes ``notebooks/<name>.ipynb`` in a kernel of *this* interpreter (no kernel
registration: a ``python3`` kernelspec registered from another environment is ignored),
writes the executed notebook to a temporary file, exports it to static HTML
(:mod:`.export`) and then moves both into ``reports/<report>/`` with atomic renames.

A failed run — a cell raising (``PapermillExecutionError``), a cell running past the
timeout (nbclient's ``CellTimeoutError``), the kernel dying (``DeadKernelError``), an
unknown parameter, a missing notebook or data file, an HTML page that would not be
static — never touches the last good HTML: the partly executed notebook is kept as
``<report>.failed.ipynb`` and the run is recorded as failed, with the error, in
``reports/runs.json`` and ``reports/index.html``. SIGTERM (a scheduler's timeout) and
Ctrl-C end a run the same way and are then re-raised (:class:`ReportTerminated`).

A report whose data cannot feed it (no assignments for the readout, too few paid
invoices for the models; see :mod:`.check`) is not a failure: the notebook opens its page
with a decision box saying what the data lacks and stops
(:class:`~collections_lab.reporting.notebook.ReportCannotRun`), and that page is
published, ending at the cell that stopped.

Publishing is all or none: the page, the executed notebook and the files the notebook
handed over (written to :func:`~collections_lab.reporting.notebook.report_file`, e.g. the
design report's ``assignments.csv``) are staged, then renamed into ``reports/<report>/``
with the HTML last; if a rename fails the replaced files are put back. Re-running the
same report simply replaces its files; nothing accumulates except run records (capped).

Example
-------
``run_report("01_portfolio_health", {"lang": "es"})`` publishes
``reports/01_portfolio_health/01_portfolio_health.html`` (``status`` ``'ok'``). Parameters
are checked before a kernel starts; a bad one is a recorded failed run:

>>> import tempfile
>>> reports = tempfile.mkdtemp()
>>> result = run_report("01_portfolio_health", {"as_of": "2025-02-30"}, reports_dir=reports)
>>> result.status
'failed'
>>> print(result.error)
01_portfolio_health.ipynb: parameter as_of: '2025-02-30' is not a date (February has 28 days in 2025); write it as YYYY-MM-DD
"""

from __future__ import annotations

import contextlib
import datetime as dt
import difflib
import errno
import logging
import os
import re
import shutil
import signal
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import pandas as pd

from ..i18n import ResultMixin, t
from . import paths
from .notebook import FILES_ENV
from .parameters import ParameterError, check_parameters, declared_parameters
from .store import append_run, atomic_write_text, locked

#: Default limit for one cell, in seconds.
DEFAULT_TIMEOUT = 600
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_REPORT_NAME = re.compile(r"^[A-Za-z0-9_-][A-Za-z0-9_.-]*$")
#: Longest error text written to runs.json and index.html (the failed notebook keeps it all).
MAX_ERROR_CHARS = 600
#: Temporary files the runner and the atomic writers leave only if their process was
#: killed (``kill -9``, power loss): ``.<report>.running-<pid>.ipynb``,
#: ``.<report>.staging-<pid>.tmp``, ``.<file>.previous-<pid>.tmp``, ``.<file>.pid<pid>-*.tmp``,
#: ``.write-check-<pid>`` (see :func:`check_writable`).
_STALE = re.compile(r"^\..+\.(?:running-(\d+)\.ipynb|staging-(\d+)\.tmp|previous-(\d+)\.tmp"
                    r"|pid(\d+)-[^/]*\.tmp)$|^\.write-check-(\d+)$")


class ReportError(Exception):
    """A report that cannot be started (missing notebook, bad parameters, bad batch file).

    Example:
        >>> try:
        ...     cl.run_batch("no/such/batch.yml")
        ... except cl.ReportError as error:
        ...     print(error)
        batch file not found: no/such/batch.yml
    """


class ReportTerminated(KeyboardInterrupt):
    """The run received SIGTERM (a scheduler's timeout, ``kill``): handled like Ctrl-C.

    A KeyboardInterrupt subclass so that no ``except Exception`` on the way swallows it;
    :func:`run_report` records the run as failed, removes its temporary files, keeps the
    last good report and re-raises; the CLI exits 143.
    """


@dataclass
class RunResult(ResultMixin):
    """The outcome of one report run, as recorded in ``reports/runs.json``.

    Paths are relative to ``reports_dir``. ``duration_s`` is wall-clock seconds
    including kernel start; ``html_bytes`` the size of the published page.

    Example:
        >>> run = cl.RunResult("01_portfolio_health", "01.ipynb", "ok", duration_s=12.5)
        >>> run.ok if hasattr(run, "ok") else run.status
        True
    """

    report: str
    notebook: str
    status: str  # "ok" or "failed"
    parameters: dict = field(default_factory=dict)
    title: str = ""
    as_of: str | None = None
    started_at: str = ""
    duration_s: float = 0.0
    error: str | None = None
    error_kind: str | None = None
    html: str | None = None
    ipynb: str | None = None
    failed_ipynb: str | None = None
    html_bytes: int | None = None
    n_stderr_outputs: int = 0
    files: dict = field(default_factory=dict)  # file name -> path, published beside the HTML
    index_lang: str | None = None  # language of index.html set by this run's batch
    #: The page top the report showed (decision text, headline facts; see reporting.page).
    page: dict | None = None
    reports_dir: str = ""

    @property
    def html_path(self) -> Path | None:
        """Absolute path of the published page (None if this run published nothing)."""
        return Path(self.reports_dir) / self.html if self.html else None

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    def _title(self) -> str:
        return f"{self.report}: {self.status}"

    def headline(self, lang: str | None = None) -> str:
        """What happened: where the page is and how long it took, or why it failed."""
        if self.ok:
            return t("run.card_ok", lang, seconds=f"{self.duration_s:.1f}",
                     html=str(self.html_path or "—"))
        return t("run.card_failed", lang, error=self.error or "—")

    def card_tables(self) -> list:
        fields = ["status", "as_of", "duration_s", "html", "error_kind", "error"]
        frame = pd.DataFrame({"field": fields, "value": [getattr(self, f) for f in fields]})
        return [("", frame.loc[frame["value"].notna()].reset_index(drop=True))]

    def card_details(self) -> list:
        params = pd.DataFrame({"parameter": list(self.parameters),
                               "value": [str(v) for v in self.parameters.values()]})
        return [("", params)] if len(params) else []

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame([asdict(self)])

    def to_record(self) -> dict:
        return asdict(self)


#: Longest Unix socket path the kernel's sockets may take (the system limit is 104-108 bytes).
_MAX_SOCKET_PATH = 90


def kernel_manager_class(extra_env: dict | None = None, report: bool = True):
    """The jupyter_client kernel manager every report (and the tutorial's test) runs with.

    Three things differ from jupyter_client's default ``python3`` kernel:

    - it always launches ``sys.executable -m ipykernel_launcher``: jupyter_client prefers a
      ``python3`` kernelspec found in the user's Jupyter data directories (possibly another
      environment's Python), so reports would not use the project's packages;
    - it always draws inline and, with ``report`` (the default), marks the kernel as a
      report's (no progress bars); ``extra_env`` is added to the kernel's environment;
    - on Unix it talks to the kernel over Unix sockets with a unique name instead of TCP.
      Over TCP jupyter_client picks free ports by binding and releasing them, then the
      kernel binds them itself a second later; any other process that binds or connects in
      between (a second report started by the scheduler, Spark's JVM, a test worker) can
      take one, and the kernel dies at start ("Kernel died before replying to kernel_info",
      seen in CI; ``ZMQError: Address already in use`` in the kernel). A socket path
      nobody else uses cannot be taken. jupyter_client removes the socket files at shutdown.

    >>> manager = kernel_manager_class()(kernel_name="python3")
    >>> manager.transport == ("ipc" if os.name == "posix" else "tcp")
    True
    >>> manager.kernel_spec.env["COLLECTIONS_LAB_REPORT"]
    '1'
    """
    import tempfile
    import uuid

    from jupyter_client.kernelspec import KernelSpec
    from jupyter_client.manager import AsyncKernelManager

    class ProjectKernelManager(AsyncKernelManager):
        """A python3 kernel of the running interpreter over a private socket (see above)."""

        def __init__(self, **kwargs):
            prefix = os.path.join(tempfile.gettempdir(), f"collections-lab-kernel-{uuid.uuid4().hex}")
            if os.name == "posix" and len(prefix) + 8 <= _MAX_SOCKET_PATH:
                kwargs.setdefault("transport", "ipc")
                kwargs.setdefault("ip", prefix)
            super().__init__(**kwargs)

        @property
        def kernel_spec(self):
            if self._kernel_spec is None:
                from ipykernel.kernelspec import RESOURCES, get_kernel_dict

                # A scheduler's MPLBACKEND=Agg would reach the kernel and silently drop
                # every figure from the report: report kernels always draw inline.
                # COLLECTIONS_LAB_REPORT: no progress bars in a report (model.simulation.progress.interactive)
                env = {"MPLBACKEND": "module://matplotlib_inline.backend_inline",
                       **({"COLLECTIONS_LAB_REPORT": "1"} if report else {}), **(extra_env or {})}
                self._kernel_spec = KernelSpec(resource_dir=RESOURCES, env=env,
                                               **get_kernel_dict())
            return self._kernel_spec

    return ProjectKernelManager


def find_notebook(name: str | Path, notebooks_dir: str | Path | None = None) -> Path:
    """The notebook for a report name (``01_portfolio_health``), file name or path.

    Raises :class:`ReportError` listing the available notebooks when it is not found.
    """
    candidate = Path(name)
    if candidate.suffix == ".ipynb" and candidate.exists():
        return candidate.resolve()
    folder = Path(notebooks_dir) if notebooks_dir is not None else paths.notebooks_dir()
    stem = candidate.name.removesuffix(".ipynb")
    path = folder / f"{stem}.ipynb"
    if path.exists():
        if not is_report(path):
            raise ReportError(f"{path.name} is a tutorial, not a report (its metadata says "
                              "collections_lab.report = false): open it in JupyterLab")
        return path.resolve()
    available = sorted(p.stem for p in report_notebooks(folder))
    close = difflib.get_close_matches(stem, available, n=1)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    raise ReportError(
        f"notebook {stem!r} not found in {folder} (available: "
        f"{', '.join(available) or 'none'}).{hint}"
    )


def notebook_title(nb, lang: str = "en", default: str = "") -> str:
    """A report's title: ``metadata.collections_lab.title`` (text or ``{lang: text}``),
    else ``metadata.title``, else the notebook's first markdown heading, else ``default``.
    """
    meta = nb.metadata.get("collections_lab", {}).get("title") or nb.metadata.get("title")
    if isinstance(meta, dict):
        meta = meta.get(lang) or meta.get("en") or next(iter(meta.values()), None)
    if meta:
        return str(meta)
    for cell in nb.cells:
        if cell.cell_type != "markdown":
            continue
        for line in cell.source.splitlines():
            match = re.match(r"^\s*#{1,6}\s+(.+?)\s*#*\s*$", line)
            if match:
                return re.sub(r"[*_`]", "", match.group(1)).strip()
    return default


def recorded_facts(nb) -> dict:
    """Facts the notebook recorded in output metadata (see ``notebook.METADATA_KEY``)."""
    from .notebook import METADATA_KEY

    facts: dict = {}
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            record = out.get("metadata", {}).get(METADATA_KEY)
            if isinstance(record, dict):
                facts.update(record)
    return facts


_DISK_ERRORS = {errno.ENOSPC, errno.EROFS, errno.EACCES, errno.EPERM, errno.EDQUOT,
                errno.ENOTDIR, errno.EISDIR, errno.EEXIST}


def _describe_failure(exc: BaseException, timeout: float) -> tuple[str, str]:
    from nbclient.exceptions import CellTimeoutError, DeadKernelError
    from papermill.exceptions import PapermillExecutionError

    if isinstance(exc, PapermillExecutionError):
        value = _ANSI.sub("", str(exc.evalue)).strip()
        return "error", f"{exc.ename}: {value} (cell [{exc.exec_count}])"
    if isinstance(exc, CellTimeoutError):
        return "timeout", f"a cell ran longer than the {timeout:g} s timeout and was stopped"
    if isinstance(exc, DeadKernelError):
        return "dead_kernel", f"the kernel died while running (crash or out of memory): {exc}"
    if isinstance(exc, OSError) and exc.errno in _DISK_ERRORS:
        return "unwritable", f"cannot write the report: {_os_reason(exc)}"
    text = _ANSI.sub("", str(exc)).strip().splitlines()
    return "error", f"{type(exc).__name__}: {text[0] if text else ''}"


def utc_now() -> str:
    """The current UTC time to the second, ISO 8601 (run records and the index)."""
    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()


def record_run(reports_dir: Path, result: RunResult, update_index: bool) -> None:
    """Add the run to runs.json and index.html; if even that is impossible (read-only or
    full disk, a corrupt log) the run's error says so instead of raising."""
    if result.error:
        result.error = public_error(result.error)
    try:
        with locked(reports_dir):
            runs = append_run(reports_dir, result.to_record())
            if update_index:
                from .index import write_index

                write_index(reports_dir, runs)
    except (OSError, ValueError) as exc:
        note = f"the run could not be recorded in {reports_dir / 'runs.json'}: {_os_reason(exc)}"
        result.error = f"{result.error}; {note}" if result.error else note


def public_error(text: str) -> str:
    """An error as runs.json and index.html show it: ANSI codes removed, at most
    :data:`MAX_ERROR_CHARS` characters (the failed notebook keeps the full text).

    The messages themselves name the problem, never a file's contents or a directory
    listing (mapping and loading errors are written so); the cap is the last guard.

    >>> public_error("x" * 700).endswith("(shortened; the failed notebook has it all)")
    True
    """
    text = _ANSI.sub("", str(text)).strip()
    if len(text) <= MAX_ERROR_CHARS:
        return text
    return text[:MAX_ERROR_CHARS].rstrip() + " … (shortened; the failed notebook has it all)"


def _os_reason(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        where = f" ({exc.filename})" if exc.filename else ""
        return f"{exc.strerror}{where}"
    return f"{type(exc).__name__}: {exc}"


def check_writable(directory: str | Path) -> None:
    """Raise :class:`ReportError` (one line) unless files can be created in ``directory``.

    Creates the directory if needed and writes, syncs and removes a small probe file, so
    a read-only or full disk, a path that is a file, or missing permissions are found
    before a kernel starts rather than when the report is published.
    """
    from ..data.files import atomic_write_bytes

    directory = Path(directory)
    probe = directory / f".write-check-{os.getpid()}"
    try:
        atomic_write_bytes(probe, b"ok\n")
        probe.unlink()
    except OSError as exc:
        raise ReportError(f"cannot write reports to {directory}: {_os_reason(exc)}") from None


def _pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # EPERM: alive, another user's
        return True
    return True


def clean_stale_files(reports_dir: str | Path) -> list[Path]:
    """Remove temporary files left by runs whose process no longer exists; returns them.

    A killed run (``kill -9``, a crash) cannot clean up: its ``.NAME.running-PID.ipynb``,
    ``.NAME.staging-PID.tmp`` directory and half-written ``.tmp`` files stay in
    ``reports/`` and ``reports/<report>/``. Each names its process; a file whose process
    is still alive (another run in progress) is kept. POSIX only (elsewhere nothing is
    removed).
    """
    if os.name != "posix":  # pragma: no cover - os.kill(pid, 0) is not a probe there
        return []
    reports_dir = Path(reports_dir)
    if not reports_dir.is_dir():
        return []
    candidates = [p for p in reports_dir.iterdir() if p.name.startswith(".")]
    for sub in reports_dir.iterdir():
        if sub.is_dir() and not sub.name.startswith("."):
            candidates += [p for p in sub.iterdir() if p.name.startswith(".")]
    removed = []
    for path in candidates:
        match = _STALE.match(path.name)
        if not match:
            continue
        pid = int(next(g for g in match.groups() if g))
        if _pid_alive(pid):
            continue
        with contextlib.suppress(OSError):
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path)
            else:
                path.unlink()
            removed.append(path)
    return removed


def run_report(
    name: str | Path,
    parameters: dict | None = None,
    *,
    report: str | None = None,
    notebooks_dir: str | Path | None = None,
    reports_dir: str | Path | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    start_timeout: float = 60,
    base_dir: str | Path | None = None,
    update_index: bool = True,
    index_lang: str | None = None,
) -> RunResult:
    """Execute one report notebook and publish its HTML if (and only if) it succeeds.

    Args:
        name: notebook name in the notebooks directory (``"01_portfolio_health"``) or a
            path to an ``.ipynb``.
        parameters: values for names declared in the notebook's ``parameters`` cell;
            any other name is refused before a kernel starts.
        report: output name (default: the notebook's name); files go to
            ``<reports_dir>/<report>/<report>.html`` and ``.ipynb``.
        notebooks_dir, reports_dir: default to the project's ``notebooks/`` and
            ``reports/`` (see :mod:`.paths`).
        timeout: seconds one cell may run before the run fails.
        start_timeout: seconds the kernel may take to start.
        base_dir: directory relative path parameters are resolved against (default: cwd).
        update_index: rebuild ``index.html`` after recording the run.
        index_lang: language of ``index.html`` (``"en"``/``"es"``; a batch file's
            ``lang``); None keeps the language of the latest batch.

    Returns:
        A :class:`RunResult`; failures are returned (``status="failed"``), not raised.

    Example:
        >>> import tempfile
        >>> run = cl.run_report("99_no_such_report", reports_dir=tempfile.mkdtemp())
        >>> run.status, run.error_kind
        ('failed', 'bad_request')
    """
    # Absolute: papermill changes the working directory while the notebook runs.
    reports_dir = (Path(reports_dir) if reports_dir is not None else paths.reports_dir()).resolve()
    parameters = dict(parameters or {})
    started = time.perf_counter()
    result = RunResult(
        report=str(report or Path(name).name.removesuffix(".ipynb")),
        notebook=str(name),
        status="failed",
        parameters=parameters,
        as_of=None if parameters.get("as_of") is None else str(parameters["as_of"]),
        started_at=utc_now(),
        reports_dir=str(reports_dir),
        index_lang=index_lang,
    )
    out_dir = reports_dir / result.report
    try:
        check_writable(reports_dir)
    except ReportError as exc:  # nothing can be published: say so in one line
        result.error_kind, result.error = "unwritable", str(exc)
        record_run(reports_dir, result, update_index)
        return result
    clean_stale_files(reports_dir)
    try:
        if not _REPORT_NAME.match(result.report):
            raise ReportError(f"report name {result.report!r} must be letters, digits, "
                              "'_', '-' or '.', not starting with '.'")
        notebook = find_notebook(name, notebooks_dir)
        result.notebook = notebook.name
        result.parameters = check_parameters(
            parameters, declared_parameters(notebook), notebook.name, base_dir
        )
    except Exception as exc:  # unreadable notebook, bad name or parameter: nothing ran
        result.error_kind = "bad_request"
        result.error = str(exc) if isinstance(exc, ReportError | ParameterError) else (
            f"{type(exc).__name__}: {exc}")
        result.duration_s = round(time.perf_counter() - started, 2)
        record_run(reports_dir, result, update_index)
        return result

    running = out_dir / f".{result.report}.running-{os.getpid()}.ipynb"
    staging = out_dir / f".{result.report}.staging-{os.getpid()}.tmp"
    failed_path = out_dir / f"{result.report}.failed.ipynb"
    try:
        with sigterm_as_interrupt():
            check_writable(out_dir)  # reports/<report> may be a file or another disk
            staging.mkdir(exist_ok=True)
            try:
                _execute(notebook, running, result.parameters, timeout, start_timeout,
                         env={FILES_ENV: str(staging)})
            except Exception as exc:
                if not _stopped_by_data(exc):
                    raise
                _trim_stopped(running)  # the page says what the data lacks: publish it
            _publish(running, staging, out_dir, result)
    except KeyboardInterrupt as exc:  # Ctrl-C or SIGTERM: record, clean up, re-raise
        result.error_kind = "terminated" if isinstance(exc, ReportTerminated) else "interrupted"
        result.error = ("the run was stopped by SIGTERM (e.g. a scheduler's timeout)"
                        if isinstance(exc, ReportTerminated) else "the run was interrupted")
        _keep_failed(running, failed_path, reports_dir, result)
        _remove_staging(staging)
        result.duration_s = round(time.perf_counter() - started, 2)
        record_run(reports_dir, result, update_index)
        exc.run_result = result  # for a batch that collects the runs it stopped
        raise
    except Exception as exc:  # every failure is recorded, none is raised
        if isinstance(exc, ReportError) and not result.error:
            result.error_kind, result.error = "unwritable", str(exc)
        elif not result.error:
            result.error_kind, result.error = _describe_failure(exc, timeout)
        _keep_failed(running, failed_path, reports_dir, result)
    else:
        result.status = "ok"
        with contextlib.suppress(FileNotFoundError):
            failed_path.unlink()  # an older failure is superseded by this good run
    finally:
        _remove_staging(staging)
    result.duration_s = round(time.perf_counter() - started, 2)
    record_run(reports_dir, result, update_index)
    return result


def _stopped_by_data(exc: BaseException) -> bool:
    """Whether the notebook stopped itself because the data cannot feed it
    (:class:`~collections_lab.reporting.notebook.ReportCannotRun`, after its page said
    why): the run succeeds with that page."""
    from papermill.exceptions import PapermillExecutionError

    return isinstance(exc, PapermillExecutionError) and exc.ename == "ReportCannotRun"


def _trim_stopped(executed: Path) -> None:
    """Keep the executed notebook up to the cell that stopped it, without papermill's
    error banners or the stop's own error output (its sentence is on the page already);
    the sections after it were not computed and are left out."""
    import nbformat

    nb = nbformat.read(executed, as_version=4)
    cells = [c for c in nb.cells
             if "papermill-error-cell-tag" not in c.get("metadata", {}).get("tags", [])]
    stop = next((i for i, c in enumerate(cells)
                 if c.get("metadata", {}).get("papermill", {}).get("exception")), len(cells) - 1)
    cells[stop]["outputs"] = [o for o in cells[stop].get("outputs", [])
                              if o.get("output_type") != "error"]
    nb.cells = cells[:stop + 1]
    nbformat.write(nb, executed)


def _keep_failed(running: Path, failed_path: Path, reports_dir: Path, result: RunResult) -> None:
    if running.exists():
        try:
            os.replace(running, failed_path)
        except OSError:  # the disk that failed the run may refuse this too
            with contextlib.suppress(OSError):
                running.unlink()
            return
        result.failed_ipynb = failed_path.relative_to(reports_dir).as_posix()


def _remove_staging(staging: Path) -> None:
    shutil.rmtree(staging, ignore_errors=True)


@contextlib.contextmanager
def sigterm_as_interrupt():
    """While a report runs, SIGTERM raises :class:`ReportTerminated` in the main thread.

    Python's default for SIGTERM is to die at once, leaving temporary files, a kernel
    and no run record; Airflow stops a timed-out task with SIGTERM. In other threads
    (where handlers cannot be installed) the default stays.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum, frame):
        raise ReportTerminated(f"signal {signum}")

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


class _SupersededWarnings(logging.Filter):
    """Drop papermill's own parameter warnings: :func:`check_parameters` has already
    refused unknown names, and papermill's line parser misreads valid cells (a comment
    containing ``=``), so its "Passed unknown parameter: data" would be false."""

    MESSAGES = ("Passed unknown parameter", "Unable to parse line")

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith(self.MESSAGES)


@contextlib.contextmanager
def _quiet_papermill():
    loggers = [logging.getLogger("papermill"), logging.getLogger("papermill.translators")]
    flt = _SupersededWarnings()
    for logger in loggers:
        logger.addFilter(flt)
    try:
        yield
    finally:
        for logger in loggers:
            logger.removeFilter(flt)


def _execute(notebook: Path, output: Path, parameters: dict, timeout: float,
             start_timeout: float, env: dict | None = None) -> None:
    import papermill

    with _quiet_papermill():
        papermill.execute_notebook(
            str(notebook),
            str(output),
            parameters=parameters,
            kernel_name="python3",
            kernel_manager_class=kernel_manager_class(env),
            cwd=str(notebook.parent),
            execution_timeout=timeout,
            start_timeout=start_timeout,
            progress_bar=False,
            log_output=False,
            # The kernel's own warnings would fill scheduler logs; cell errors still reach
            # the notebook.
            extra_arguments=["--IPKernelApp.log_level=CRITICAL"],
        )


#: The rename used to publish; a test replaces it to fail in the middle of a publish.
_replace = os.replace


def _commit(moves: list[tuple[Path, Path]]) -> None:
    """Move each staged file onto its target, all or none.

    Every rename is atomic on its own; for the set, each target's previous version is
    kept as a hard link until all renames succeeded and put back if one fails (or the
    run is interrupted), so a new notebook never sits beside an old HTML page. The
    HTML page is last in ``moves``, so a reader never sees it before its files.
    """
    done: list[tuple[Path, Path, Path | None]] = []
    try:
        for staged, target in moves:
            backup = None
            if target.exists():
                backup = target.with_name(f".{target.name}.previous-{os.getpid()}.tmp")
                with contextlib.suppress(FileNotFoundError):
                    backup.unlink()
                os.link(target, backup)
            done.append((staged, target, backup))
            _replace(staged, target)
    except BaseException:
        for staged, target, backup in reversed(done):
            if target.exists() and not staged.exists():
                os.replace(target, staged)  # the new file goes back (failed notebook kept)
            if backup is not None:
                os.replace(backup, target)
        raise
    finally:
        for _, _, backup in done:
            if backup is not None:
                with contextlib.suppress(FileNotFoundError):
                    backup.unlink()


def _publish(executed: Path, staging: Path, out_dir: Path, result: RunResult) -> None:
    import nbformat

    from .export import check_static, export_html

    nb = nbformat.read(executed, as_version=4)
    facts = recorded_facts(nb)
    lang = str(result.parameters.get("lang") or "en")
    result.title = notebook_title(nb, lang, default=result.report)
    result.as_of = facts.get("as_of") or result.as_of
    result.page = facts.get("page")
    page = export_html(nb, title=result.title, lang=lang)
    problems = check_static(page.html)
    if problems:
        result.error_kind = "not_static"
        result.error = "the HTML would not render offline: " + "; ".join(problems[:3])
        raise ReportError(result.error)
    html_path = out_dir / f"{result.report}.html"
    ipynb_path = out_dir / f"{result.report}.ipynb"
    reserved = {html_path.name, ipynb_path.name, f"{result.report}.failed.ipynb"}
    extra = sorted(p for p in staging.iterdir() if p.is_file()) if staging.is_dir() else []
    clash = [p.name for p in extra if p.name in reserved or p.name.startswith(".")]
    if clash:
        result.error_kind = "bad_file"
        result.error = f"the notebook wrote files the runner reserves: {clash}"
        raise ReportError(result.error)
    staged_html = staging / f".{html_path.name}.staged"
    atomic_write_text(staged_html, page.html)
    # Files first, then the executed notebook, the HTML page last.
    moves = [(p, out_dir / p.name) for p in extra]
    moves += [(executed, ipynb_path), (staged_html, html_path)]
    _commit(moves)
    reports_dir = out_dir.parent
    result.html = html_path.relative_to(reports_dir).as_posix()
    result.ipynb = ipynb_path.relative_to(reports_dir).as_posix()
    result.files = {p.name: (out_dir / p.name).relative_to(reports_dir).as_posix()
                    for p in extra}
    result.html_bytes = page.size_bytes
    result.n_stderr_outputs = page.n_stderr_outputs


def is_report(path: Path) -> bool:
    """Whether a notebook is a report: every notebook is, unless its metadata says
    ``{"collections_lab": {"report": false}}`` (a tutorial such as
    ``00_getting_started``, which the runner neither lists nor runs)."""
    import json

    try:
        meta = json.loads(Path(path).read_text(encoding="utf-8")).get("metadata", {})
    except (OSError, ValueError):
        return True  # unreadable: let the run itself say what is wrong
    return (meta.get("collections_lab") or {}).get("report", True) is not False


def report_notebooks(folder: str | Path) -> list[Path]:
    """The report notebooks in ``folder`` (sorted; tutorials left out, see :func:`is_report`)."""
    folder = Path(folder)
    if not folder.is_dir():
        return []
    return [p for p in sorted(folder.glob("*.ipynb")) if is_report(p)]


def list_notebooks(notebooks_dir: str | Path | None = None) -> pd.DataFrame:
    """The report notebooks with their titles and declared parameters (name=default)."""
    import nbformat

    folder = Path(notebooks_dir) if notebooks_dir is not None else paths.notebooks_dir()
    rows = []
    for path in report_notebooks(folder):
        nb = nbformat.read(path, as_version=4)
        declared = declared_parameters(path)
        rows.append(
            {
                "notebook": path.stem,
                "title": notebook_title(nb, default=path.stem),
                "parameters": ", ".join(f"{k}={v.get('default')}" for k, v in declared.items()),
            }
        )
    return pd.DataFrame(rows, columns=["notebook", "title", "parameters"])
