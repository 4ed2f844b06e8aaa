"""builder/pool.py: the local pool, and a real Dask cluster of its own processes that
builds an archive with the same bytes as this machine does."""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from archives import make_archive, outputs
from builder.errors import BuildError
from builder.pool import LocalPool, open_pool, scheduler_address
from conftest import run_builder

ROOT = Path(__file__).resolve().parent.parent
SLUG = "a-synthetic-book-of-700-words"


def _square_or_fail(n: int) -> int:
    if n == 3:
        raise ZeroDivisionError("three is not welcome")
    return n * n


def test_local_pool_gives_every_outcome_and_a_crash_as_one_line() -> None:
    with LocalPool(2) as pool:
        found = dict(pool.run(_square_or_fail, iter(range(6))))
    crashed = found.pop(3)
    assert found == {0: 0, 1: 1, 2: 4, 4: 16, 5: 25}
    assert isinstance(crashed, BuildError)
    assert crashed.category == "crash"
    assert crashed.message == "a worker process failed: ZeroDivisionError: three is not welcome"


def _dies_on_four(n: int) -> int:
    if n == 4:
        os._exit(9)  # (as a worker killed for its memory)
    return n + 100


def test_a_worker_that_dies_fails_its_own_task_only() -> None:
    with LocalPool(2) as pool:
        found = dict(pool.run(_dies_on_four, iter(range(9))))
    died = found.pop(4)
    assert found == {n: n + 100 for n in range(9) if n != 4}
    assert isinstance(died, BuildError)
    assert str(died) == ("error: the worker process building it died (hint: build it alone "
                         "with builder build to see why (a crash, or too little memory))")


def test_the_scheduler_comes_from_the_option_or_the_environment(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BUILDER_SCHEDULER", raising=False)
    assert scheduler_address(None) is None
    assert scheduler_address("10.0.0.5:8786") == "tcp://10.0.0.5:8786"
    monkeypatch.setenv("BUILDER_SCHEDULER", "tcp://cluster:8786")
    assert scheduler_address(None) == "tcp://cluster:8786"
    assert scheduler_address("tcp://other:1") == "tcp://other:1"
    monkeypatch.setenv("BUILDER_SCHEDULER", "")  # (empty: none)
    with open_pool(jobs=1) as pool:
        assert pool.shares_files


def test_without_dask_the_scheduler_option_says_what_to_install(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "distributed", None)  # (an import of it fails)
    with pytest.raises(BuildError) as raised:
        open_pool(scheduler="tcp://127.0.0.1:8786")
    assert str(raised.value) == ("error: --scheduler needs Dask distributed, which is not "
                                 "installed (hint: pip install 'builder[cluster]')")


@pytest.mark.slow
@pytest.mark.external
def test_a_scheduler_nobody_runs_is_one_line(tmp_path: Path) -> None:
    make_archive(tmp_path, 1)
    found = run_builder("build-all", str(tmp_path), "--scheduler", "tcp://127.0.0.1:9")
    assert found.returncode == 2
    assert found.stdout == ""
    assert found.stderr.splitlines() == [
        "error: cannot reach the Dask scheduler at tcp://127.0.0.1:9: Timed out trying to "
        "connect to tcp://127.0.0.1:9 after 20 s (hint: start it (dask scheduler), or check "
        "--scheduler and $BUILDER_SCHEDULER)"]
    assert not (tmp_path / "articles" / "a01" / "dist").exists()


# --- a real cluster: a scheduler and two workers, each its own process --------------------

def _dask(*args: str, log: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}  # the workers import this builder
    with open(log, "wb") as out:
        return subprocess.Popen([sys.executable, "-m", "dask", *args], stdout=out,
                                stderr=subprocess.STDOUT, env=env, start_new_session=True)


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The address of a Dask scheduler on 127.0.0.1 with two one-thread workers; all
    three processes are stopped at the end, whatever happened."""
    pytest.importorskip("distributed", reason="pip install 'builder[cluster]'")
    folder = tmp_path_factory.mktemp("cluster")
    schedule = folder / "scheduler.json"
    processes = [_dask("scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
                       "--scheduler-file", str(schedule), log=folder / "scheduler.log")]
    try:
        for _ in range(600):  # (the file appears when the scheduler listens)
            if schedule.exists() and schedule.stat().st_size:
                break
            assert processes[0].poll() is None, (folder / "scheduler.log").read_text()
            time.sleep(0.1)
        for n in (1, 2):
            processes.append(_dask("worker", "--scheduler-file", str(schedule), "--nthreads",
                                   "1", "--no-dashboard", "--name", f"w{n}",
                                   log=folder / f"worker{n}.log"))
        address = json.loads(schedule.read_text())["address"]
        import distributed
        with distributed.Client(address, timeout="60s") as client:
            client.wait_for_workers(2, timeout=300)
        yield address
    finally:
        for process in reversed(processes):
            _stop(process)


@pytest.mark.slow
@pytest.mark.external
def test_ten_projects_on_the_cluster_are_byte_identical_to_the_local_build(
        cluster: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    local = make_archive(tmp_path / "local", 10)
    remote = make_archive(tmp_path / "remote", 10)
    here = run_builder("build-all", str(tmp_path / "local"), "--jobs", "2")
    assert here.returncode == 0, here.stdout + here.stderr
    there = run_builder("build-all", str(tmp_path / "remote"), "--scheduler", cluster)
    assert there.returncode == 0, there.stdout + there.stderr
    assert there.stdout.splitlines()[-1] == "10 projects: 10 built, 0 up to date, 0 failed"
    for mine, theirs in zip(local, remote, strict=True):
        built = outputs(mine)
        assert sorted(built) == sorted(outputs(theirs))
        assert {f"{SLUG}.pdf", f"{SLUG}.epub", f"{SLUG}.html"} <= set(built)
        assert built == outputs(theirs), mine.name
    again = run_builder("build-all", str(tmp_path / "remote"), "--scheduler", cluster)
    assert again.returncode == 0, again.stderr
    assert again.stdout.splitlines()[-1] == "10 projects: 0 built, 10 up to date, 0 failed"
    (remote[4] / "book" / "01-chapter.md").write_text("# Changed\n\nOne new paragraph.\n")
    changed = run_builder("build-all", str(tmp_path / "remote"), "--scheduler", cluster)
    assert changed.stdout.splitlines()[-1] == "10 projects: 1 built, 9 up to date, 0 failed"
    assert outputs(remote[4]) != outputs(local[4])


@pytest.mark.slow
@pytest.mark.external
def test_a_failing_project_on_the_cluster_names_its_own_file(
        cluster: str, tmp_path: Path) -> None:
    project, = make_archive(tmp_path, 1)
    broken = shutil.copytree(project, tmp_path / "articles" / "broken")
    (broken / "book" / "01-chapter.md").write_text("# Broken\n\nAs @nosuchkey says.\n")
    found = run_builder("build-all", str(tmp_path), "--scheduler", cluster, "-q",
                        cwd=tmp_path)
    assert found.returncode == 1
    assert found.stdout.splitlines()[-2].split("  ")[-1] == (
        "articles/broken/book/01-chapter.md:3:4: error: citation key '@nosuchkey' is not in "
        "the bibliography (hint: add it to the bibliography, or fix the key)")
