"""One sync run: resolve the head, plan against the database, fetch, parse, write.

The pipeline is a bounded queue between the fetcher (one request at a time per
repository) and ``workers`` parse tasks; parsing runs off the event loop in an
executor (processes for large runs, so parsing uses every core), and every write goes
to the single writer thread through the file committer (syncer/storage/file_batches.py): files
share transactions, each in its own savepoint, and the batch is derived once. The task
table is the checkpoint: a run cut off leaves exactly its unfinished tasks, and the next
run (which always plans against the head it resolves itself) picks up from there without
refetching what was already written.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

from syncer import PARSER_VERSION
from syncer.config import Settings
from syncer.errors import FatalError, RetryableError, SourceError
from syncer.formats import ContextDoc, ParseOptions, parse_file
from syncer.formats.prefixes import fingerprint, prefix_map
from syncer.model import FileContribution, Tree, TreeEntry
from syncer.planner import Plan, plan_changes
from syncer.sources.base import FetchedFile, Source
from syncer.storage import closure, contexts, runs, statements
from syncer.storage import files as store
from syncer.storage.file_batches import FileCommitter, FileDelete, FileWrite, Written
from syncer.storage.writer import Writer
from syncer.sync.progress import NoObserver, Progress, RunObserver, RunResult

log = logging.getLogger("syncer.engine")

# Parse processes only pay when parsing, not the one writer, is what a run waits on: many
# megabytes of large files. Small ontology pages parse faster than the writer stores them,
# so threads sync the page corpora as fast as processes do, in far less memory (the
# figures are in docs/performance.md, measured by bench/).
PROCESS_POOL_MIN_BYTES = 16 * 1024 * 1024
PROCESS_POOL_MIN_MEAN_BYTES = 64 * 1024


def utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def load_file_contexts(settings: Settings) -> tuple[ContextDoc, ...]:
    """``file:`` contexts are read once, when the engine starts."""
    docs = []
    for ctx in settings.jsonld_contexts:
        if ctx.kind == "file":
            try:
                docs.append(ContextDoc(url=ctx.url, document=Path(ctx.path).read_bytes()))
            except OSError as exc:
                raise FatalError(f"JSON-LD context file {ctx.path} unreadable: {exc}") from exc
    return tuple(docs)


def wants_processes(entries: Sequence[TreeEntry]) -> bool:
    """Whether parsing ``entries`` is worth parse processes (see PROCESS_POOL_MIN_BYTES)."""
    total = sum(e.size or 0 for e in entries)
    return total >= PROCESS_POOL_MIN_BYTES and total >= PROCESS_POOL_MIN_MEAN_BYTES * len(entries)


def default_parse_executor(workers: int, entries: Sequence[TreeEntry]) -> Executor:
    if wants_processes(entries) and workers > 1 and (os.cpu_count() or 1) > 1:
        # forkserver: forking a process that runs threads (the writer) is unsafe.
        context = multiprocessing.get_context("forkserver")
        return ProcessPoolExecutor(
            max_workers=min(workers, os.cpu_count() or 1), mp_context=context
        )
    return ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="syncer-parse")


class SyncEngine:
    def __init__(
        self,
        settings: Settings,
        source: Source,
        writer: Writer,
        *,
        parse_executor: Executor | None = None,
        clock: Callable[[], str] = utc_now,
        on_progress: Callable[[Progress], None] | None = None,
        order: Callable[[Sequence[TreeEntry]], Sequence[TreeEntry]] | None = None,
        observer: RunObserver | None = None,
    ) -> None:
        self.settings = settings
        self.source = source
        self.writer = writer
        self.parse_executor = parse_executor
        self.clock = clock
        self.on_progress = on_progress
        self.progress: Progress | None = None
        self._file_contexts = load_file_contexts(settings)
        # The order files are fetched and written in (tests shuffle it: any order converges).
        self.order = order
        self.observer: RunObserver = observer or NoObserver()

    @property
    def oid(self) -> str:
        return self.settings.ontology_id

    def _report(self) -> None:
        if self.on_progress is not None and self.progress is not None:
            self.on_progress(self.progress)

    async def plan(self, *, force: bool = False) -> tuple[Tree, Plan, bool]:
        """The head's tree, what to do about it, and whether every file is read again
        (``force``, or a prefix map that changed)."""
        known = await self.writer.read(store.load_file_states, self.oid)
        # The prefix map (prefixmaps and curies: about 0.2 s in a new process) is built on a
        # thread while the source answers, not before: every run that parses needs it, and
        # a one-file `syncer sync` is a new process (issue 13: one changed page < 1 s).
        configured = self.settings.prefixes
        loop = asyncio.get_running_loop()
        prefixes = loop.run_in_executor(None, prefix_map, configured)
        try:
            # An initial sync reads every file: a source that can download the whole branch
            # in one go (GitHub's tarball) does so first and names the commit it holds, which
            # saves resolving the head (docs/performance.md: 3 requests in all, not 5).
            head = await self.source.prefetch(self.settings.branch) if not known else None
            if head is None:
                head = await self.source.resolve_head(self.settings.branch)
            tree = await self.source.list_tree(head)
        finally:
            # Never leave the thread's work behind: a source error waits for it too, so
            # its outcome (an error included) is always collected.
            await asyncio.gather(prefixes, return_exceptions=True)
        await prefixes
        # The CURIEs in statements follow the prefix map; a new map (SYNCER_PREFIXES
        # changed) means every file is written again under it.
        if await self.writer.run(
            statements.sync_prefixes,
            fingerprint(configured),
            lambda: prefix_map(configured).table,
        ):
            log.info("the prefix map changed: every file is read again")
            force = True
        plan = plan_changes(
            tree,
            known,
            include=self.settings.include,
            exclude=self.settings.exclude,
            parser_version=PARSER_VERSION,
            force=force,
        )
        return tree, plan, force

    async def _contexts(self, tree: Tree) -> tuple[ContextDoc, ...]:
        docs = list(self._file_contexts)
        wanted = []
        in_tree = tree.by_path()
        for ctx in self.settings.jsonld_contexts:
            entry = in_tree.get(ctx.path) if ctx.kind == "repo" else None
            if entry is None:
                continue  # not in this commit: blocks using it get an "unmapped" warning
            cached = await self.writer.read(contexts.context_cached, entry.blob_sha)
            if cached is not None:
                docs.append(ContextDoc(ctx.url, cached, entry.path, entry.blob_sha))
            else:
                wanted.append((ctx, entry))
        if wanted:
            entries = [entry for _, entry in wanted]
            fetched = {f.entry.path: f.data async for f in self.source.fetch(tree.commit, entries)}
            for ctx, entry in wanted:
                data = fetched[entry.path]
                await self.writer.run(contexts.cache_context, entry.blob_sha, data)
                docs.append(ContextDoc(ctx.url, data, entry.path, entry.blob_sha))
        return tuple(docs)

    async def sync(
        self,
        *,
        force: bool = False,
        kind: str = "sync",
        run_id: int | None = None,
        trigger: str | None = None,
    ) -> RunResult:
        """One run; ``run_id`` adopts a row the service queued when it accepted the request,
        ``trigger`` says what started a run that has no such row (``syncer sync``)."""
        started = time.monotonic()
        requests_before = self.source.stats.requests
        if run_id is None:
            run_id = await self.writer.run(
                runs.start_run, self.oid, kind, force, self.clock(), trigger
            )
        else:
            await self.writer.run(runs.adopt_run, self.oid, run_id, self.clock())
        self.progress = Progress(run_id=run_id, kind=kind)
        failures: list[tuple[str, str]] = []
        plan: Plan | None = None
        status, error = "done", None
        try:
            self.progress.phase = "planning"
            self._report()
            tree, plan, force = await self.plan(force=force)
            self.progress.commit = plan.commit
            self.progress.planned = len(plan.upserts) + len(plan.deletes)
            await self.writer.run(runs.record_plan, self.oid, run_id, plan)
            await self.writer.run(runs.note_head, self.oid, plan.commit, self.clock())
            options = ParseOptions(
                prefixes=self.settings.prefixes,
                contexts=await self._contexts(tree) if plan.upserts else (),
                max_file_bytes=self.settings.max_file_bytes,
            )
            self.progress.phase = "syncing"
            self.progress.sample()
            self._report()
            await self._process(plan, options, failures)
            if force:
                await self.writer.run(store.rederive_all, self.oid, self.clock())
            else:
                await self.writer.run(closure.catch_up)
            await self.writer.run(
                runs.set_synced,
                self.oid,
                self.source.description,
                self.settings.branch,
                plan.commit,
                self.clock(),
            )
        except (RetryableError, SourceError) as exc:
            status, error = "interrupted", str(exc)
            log.warning("run %s interrupted: %s", run_id, exc)
        except FatalError as exc:
            status, error = "failed", str(exc)
            log.error("run %s failed: %s", run_id, exc)
            raise
        finally:
            self.progress.phase = status
            self.progress.sample()
            requests = self.source.stats.requests - requests_before
            try:
                await self.writer.run(
                    runs.finish_run,
                    run_id,
                    runs.RunCounts(
                        status=status,
                        now=self.clock(),
                        processed=self.progress.processed,
                        failed=self.progress.failed,
                        deleted=self.progress.deleted,
                        requests=requests,
                        error=error,
                    ),
                )
            except FatalError:
                log.exception("could not record the end of run %s", run_id)
            self.source.release()
            self._report()
        return RunResult(
            run_id=run_id,
            status=status,
            commit=plan.commit if plan else None,
            planned=self.progress.planned,
            processed=self.progress.processed,
            failed=self.progress.failed,
            deleted=self.progress.deleted,
            unchanged=plan.unchanged if plan else 0,
            requests=requests,
            seconds=time.monotonic() - started,
            error=error,
            failures=tuple(sorted(failures)),
        )

    async def _process(
        self, plan: Plan, options: ParseOptions, failures: list[tuple[str, str]]
    ) -> None:
        entries: Sequence[TreeEntry] = plan.upserts
        if self.order is not None:
            entries = self.order(entries)
        limit = options.max_file_bytes
        too_big = [e for e in entries if e.size is not None and e.size > limit]
        to_fetch = [e for e in entries if e.size is None or e.size <= limit]
        committer = FileCommitter(
            self.writer,
            self.oid,
            PARSER_VERSION,
            self.clock,
            lambda written: self._written(written, failures),
        )
        committing = asyncio.create_task(committer.run())
        workers = max(1, self.settings.workers)
        executor = (
            (self.parse_executor or default_parse_executor(workers, to_fetch)) if to_fetch else None
        )
        queue: asyncio.Queue[FetchedFile | None] = asyncio.Queue(maxsize=workers * 4)
        loop = asyncio.get_running_loop()

        async def produce() -> None:
            for path in plan.deletes:
                await committer.put(FileDelete(path))
            for entry in too_big:
                skipped = FileContribution.skipped(
                    f"file is {entry.size} bytes, over the {options.max_file_bytes}-byte limit"
                )
                await committer.put(FileWrite(entry, skipped))
            try:
                if to_fetch:
                    async for fetched in self.source.fetch(plan.commit, to_fetch):
                        await queue.put(fetched)
            finally:
                for _ in range(workers):
                    await queue.put(None)

        async def work() -> None:
            assert self.progress is not None
            while (item := await queue.get()) is not None:
                if item.unreadable is not None:
                    unread = FileContribution.failed(item.unreadable)
                    await committer.put(FileWrite(item.entry, unread, unread=True))
                    continue
                self.progress.busy_workers += 1
                try:
                    began = time.perf_counter()
                    contribution = await loop.run_in_executor(
                        executor, parse_file, item.entry.path, item.data, options
                    )
                    self.observer.file_parsed(time.perf_counter() - began)
                    await committer.put(FileWrite(item.entry, contribution))
                finally:
                    self.progress.busy_workers -= 1

        async def feed() -> None:
            await asyncio.gather(produce(), *(work() for _ in range(workers)))
            await committer.close()

        tasks = [asyncio.create_task(feed()), committing]
        try:
            await asyncio.gather(*tasks)
        except BaseException:
            # One side failed: stop the others so nobody waits on a queue forever.
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            raise
        finally:
            if self.parse_executor is None and executor is not None:
                executor.shutdown(wait=True, cancel_futures=True)
            log.debug(
                "%d files written in %d transactions",
                len(plan.upserts) + len(plan.deletes),
                committer.transactions,
            )

    def _written(self, written: list[Written], failures: list[tuple[str, str]]) -> None:
        """A batch committed: count it."""
        assert self.progress is not None
        for done in written:
            if done.contribution is None:
                self.progress.deleted += 1
                continue
            self.progress.processed += 1
            if done.contribution.status == "failed":
                self.progress.failed += 1
                assert isinstance(done.item, FileWrite)
                failures.append((done.item.entry.path, done.contribution.error or "failed"))
        self.progress.sample()
        self._report()
