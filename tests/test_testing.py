"""fastchan.testing, the leak-checking pytest plugin, run on generated test files with
pytester: inactive by default, --fastchan-leaks and the fixture, ignore=, reports; a
leak fails the test (not a teardown error), calls left blocked in threads older than
the test, and the plugin with -x, --lf, junitxml and pytest-timeout."""

import textwrap

import pytest

pytestmark = pytest.mark.timeout(120)

LEAKY = """
import threading, fastchan as fc
ch = fc.Chan()

def test_leaks_a_blocked_reader():
    threading.Thread(target=ch.recv, name="stuck-reader", daemon=True).start()

def test_clean():
    t = threading.Thread(target=lambda: None)
    t.start(); t.join()
"""


# A thread older than the tests (started at import), idle in fastchan until a test hands
# it a call to make; block_server_on(ch) leaves it blocked receiving from `ch`.
SERVER = """
import threading, time, fastchan as fc

_calls = fc.Chan()

def _serve():
    for fn in _calls:
        fn()

threading.Thread(target=_serve, name="server", daemon=True).start()

def block_server_on(ch):
    _calls.send(ch.recv)
    deadline = time.monotonic() + 30
    while not any(b.thread_name == "server" and b.channels == [ch] for b in fc.debug.blocked()):
        assert time.monotonic() < deadline, "the server never blocked"
        time.sleep(0.005)
"""


def _ini(pytester):
    pytester.makeini("[pytest]\nfastchan_leaks_timeout = 0.2\n")


def test_inactive_unless_asked(pytester):
    _ini(pytester)
    pytester.makepyfile(LEAKY)
    result = pytester.runpytest_subprocess("-p", "fastchan.testing")
    result.assert_outcomes(passed=2)


def test_option_fails_the_leaking_test_and_names_it(pytester):
    _ini(pytester)
    pytester.makepyfile(LEAKY)
    result = pytester.runpytest_subprocess("-p", "fastchan.testing", "--fastchan-leaks")
    result.assert_outcomes(passed=1, failed=1)      # a failure of the test, not an error
    result.stdout.fnmatch_lines([
        "*_ test_leaks_a_blocked_reader _*",
        "1 thread(s) left running by this test:",
        "'stuck-reader': blocked in fastchan recv for *s on <fastchan.Chan capacity=0 len=0 open>",
        "*short test summary*",
        "FAILED *::test_leaks_a_blocked_reader*",
    ])
    result.stdout.no_fnmatch_line("*ERROR*")
    result.stdout.no_fnmatch_line("*test_clean*")


def test_fixture_alone_checks_only_its_tests(pytester):
    _ini(pytester)
    pytester.makepyfile(
        """
        import threading, time

        def _spin():
            time.sleep(5)

        def test_with_fixture(fastchan_no_leaks):
            threading.Thread(target=_spin, name="sleeper", daemon=True).start()

        def test_without_fixture():
            threading.Thread(target=_spin, name="other", daemon=True).start()
        """
    )
    result = pytester.runpytest_subprocess("-p", "fastchan.testing")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*'sleeper': running (not blocked in fastchan)*", "FAILED *::test_with_fixture*"])


def test_marker_ignores_threads_by_name(pytester):
    _ini(pytester)
    pytester.makepyfile(
        SERVER + textwrap.dedent("""
        import pytest
        ch = fc.Chan()

        @pytest.mark.fastchan_leaks(ignore=["cache-*", "exact", "server"])
        def test_ignored():
            threading.Thread(target=ch.recv, name="cache-refresher", daemon=True).start()
            threading.Thread(target=ch.recv, name="exact", daemon=True).start()
            block_server_on(ch)     # a thread older than the test, left blocked

        def test_not_ignored():
            threading.Thread(target=ch.recv, name="exact-not", daemon=True).start()
        """)
    )
    result = pytester.runpytest_subprocess("-p", "fastchan.testing", "--fastchan-leaks", "--strict-markers")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["1 thread(s) left running by this test:", "'exact-not': blocked in fastchan recv*"])


def test_never_hides_the_tests_own_failure(pytester):
    _ini(pytester)
    pytester.makepyfile(
        """
        import threading, fastchan as fc
        ch = fc.Chan()

        def test_fails_and_leaks():
            threading.Thread(target=ch.recv, name="leaked", daemon=True).start()
            assert 1 == 2, "the test's own failure"
        """
    )
    result = pytester.runpytest_subprocess("-p", "fastchan.testing", "--fastchan-leaks")
    result.assert_outcomes(failed=1, errors=1)     # its failure, and the leak beside it
    result.stdout.fnmatch_lines([
        "*_ ERROR at teardown of test_fails_and_leaks _*",
        "1 thread(s) left running by this test:",
        "'leaked': blocked in fastchan recv for *",
        "*= FAILURES =*",
        "*_ test_fails_and_leaks _*",
        "E * the test's own failure",
        "*short test summary*",
        "FAILED *::test_fails_and_leaks*",
        "ERROR *::test_fails_and_leaks*",
    ])


def test_threads_that_finish_in_time_are_not_leaks(pytester):
    pytester.makeini("[pytest]\nfastchan_leaks_timeout = 5\n")
    pytester.makepyfile(
        """
        import threading, time

        def test_slow_but_finishing():
            threading.Thread(target=time.sleep, args=(0.2,), name="brief").start()
        """
    )
    result = pytester.runpytest_subprocess("-p", "fastchan.testing", "--fastchan-leaks")
    result.assert_outcomes(passed=1)


def test_older_thread_left_blocked_fails_the_test_and_names_the_call(pytester):
    _ini(pytester)
    pytester.makepyfile(
        SERVER + textwrap.dedent("""
        def test_blocks_the_server():
            block_server_on(fc.Chan(1))

        def test_after():
            pass
        """)
    )
    result = pytester.runpytest_subprocess("-p", "fastchan.testing", "--fastchan-leaks")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines([
        "*_ test_blocks_the_server _*",
        "1 operation(s) left blocked in fastchan by this test in thread(s) that were already running:",
        "'server': blocked in fastchan recv for *s on <fastchan.Chan capacity=1 len=0 open>",
        '*line *, in _serve',
        "FAILED *::test_blocks_the_server*",
    ])
    # The server is still blocked the same way during the next test: not its leak.
    result.stdout.no_fnmatch_line("FAILED *::test_after*")


def test_idle_pool_from_before_the_test_is_not_a_leak(pytester):
    _ini(pytester)
    pytester.makepyfile(
        """
        import time, pytest, fastchan as fc

        pool = fc.WorkerPool(2, name="pool")
        deadline = time.monotonic() + 30
        while len(fc.debug.blocked()) < 2:        # both workers idle on the job channel
            assert time.monotonic() < deadline
            time.sleep(0.005)

        # A worker may still be on its way back to the job channel when the next test
        # starts (the result is out before it gets there): back there, it is at rest.
        @pytest.mark.parametrize("i", range(20))
        def test_submit(i):
            assert pool.submit(lambda: i).result() == i

        def test_map():
            assert list(pool.map(abs, [-1, -2, 3, -4])) == [1, 2, 3, 4]

        @pytest.mark.parametrize("i", range(10))
        def test_go_and_wait(i):
            wg = fc.WaitGroup()
            for _ in range(4):
                wg.add(1)
                pool.go(wg.done)
            wg.wait()

        timed = fc.Chan()

        def test_timed_waits_end_by_themselves():
            pool.go(timed.recv, timeout=60)         # wakes by itself: not left blocked
            pool.go(fc.select, timed, fc.after(60))
            while len([b for b in fc.debug.blocked() if timed in b.channels]) < 2:
                time.sleep(0.005)

        def test_release():
            timed.close()
        """
    )
    result = pytester.runpytest_subprocess("-p", "fastchan.testing", "--fastchan-leaks")
    result.assert_outcomes(passed=33)


@pytest.mark.parametrize("scope", ["function", "module"])
def test_threads_of_fixtures_are_not_a_leak(pytester, scope):
    # function: started after the check's snapshot, stopped by the fixture's teardown
    # before the check; module: started before the snapshot of the first test using it.
    pytester.makepyfile(
        f"""
        import threading, pytest

        @pytest.fixture(scope="{scope}")
        def service():
            stop = threading.Event()
            t = threading.Thread(target=stop.wait, name="fixture-service")
            t.start()
            yield t
            stop.set()
            t.join()

        def test_first(service):
            assert service.is_alive()

        def test_second(service):
            assert service.is_alive()
        """
    )
    # A long grace period would hide a teardown judged too early: 0 leaves it none.
    pytester.makeini("[pytest]\nfastchan_leaks_timeout = 0\n")
    result = pytester.runpytest_subprocess("-p", "fastchan.testing", "--fastchan-leaks")
    result.assert_outcomes(passed=2)


def test_another_teardown_error_keeps_the_leak_an_error_too(pytester):
    _ini(pytester)
    pytester.makepyfile(
        """
        import threading, pytest, fastchan as fc

        @pytest.fixture
        def broken():
            yield
            raise RuntimeError("broken teardown")

        def test_leaks(broken):
            threading.Thread(target=fc.Chan().recv, name="leaked", daemon=True).start()
        """
    )
    result = pytester.runpytest_subprocess("-p", "fastchan.testing", "--fastchan-leaks")
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(["*broken teardown*"])
    result.stdout.fnmatch_lines(["*'leaked': blocked in fastchan recv*"])


def test_exitfirst_lastfailed_and_junitxml_see_a_failure(pytester):
    _ini(pytester)
    pytester.makepyfile(
        """
        import threading, fastchan as fc

        def test_1_clean():
            pass

        def test_2_leaks():
            threading.Thread(target=fc.Chan().recv, name="leaked", daemon=True).start()

        def test_3_clean():
            pass
        """
    )
    result = pytester.runpytest_subprocess(
        "-p", "fastchan.testing", "-p", "cacheprovider", "--fastchan-leaks", "-x", "--junitxml=out.xml"
    )
    result.assert_outcomes(passed=1, failed=1)     # -x stopped before test_3_clean
    result.stdout.fnmatch_lines(["*stopping after 1 failures*"])
    xml = (pytester.path / "out.xml").read_text()
    assert 'failures="1"' in xml and 'errors="0"' in xml
    assert "<failure" in xml and "'leaked': blocked in fastchan recv" in xml
    result = pytester.runpytest_subprocess("-p", "fastchan.testing", "-p", "cacheprovider", "--fastchan-leaks", "--lf")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["collected 1 item", "run-last-failure: rerun previous 1 failure"])
    result.stdout.fnmatch_lines(["FAILED *::test_2_leaks*"])


def test_pytest_timeout_still_applies(pytester):
    _ini(pytester)
    pytester.makepyfile(
        """
        import threading, time, pytest, fastchan as fc

        @pytest.mark.timeout(0.5, method="signal")
        def test_hangs():
            time.sleep(30)

        def test_next():
            pass
        """
    )
    result = pytester.runpytest_subprocess("-p", "fastchan.testing", "--fastchan-leaks")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*Timeout*"])
