"""fastchan.testing, the leak-checking pytest plugin, run on generated test files with
pytester: inactive by default, --fastchan-leaks and the fixture, ignore=, reports."""

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
    result.assert_outcomes(passed=2, errors=1)
    result.stdout.fnmatch_lines([
        "*ERROR at teardown of test_leaks_a_blocked_reader*",
        "*'stuck-reader': blocked in fastchan recv for *s on <fastchan.Chan capacity=0 len=0 open>",
    ])
    assert "test_clean" not in "".join(l for l in result.outlines if "ERROR at teardown" in l)


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
    result.assert_outcomes(passed=2, errors=1)
    result.stdout.fnmatch_lines(["*'sleeper': running (not blocked in fastchan)*"])


def test_marker_ignores_threads_by_name(pytester):
    _ini(pytester)
    pytester.makepyfile(
        """
        import threading, pytest, fastchan as fc
        ch = fc.Chan()

        @pytest.mark.fastchan_leaks(ignore=["cache-*", "exact"])
        def test_ignored():
            threading.Thread(target=ch.recv, name="cache-refresher", daemon=True).start()
            threading.Thread(target=ch.recv, name="exact", daemon=True).start()
        """
    )
    result = pytester.runpytest_subprocess("-p", "fastchan.testing", "--fastchan-leaks", "--strict-markers")
    result.assert_outcomes(passed=1)


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
    result.assert_outcomes(failed=1, errors=1)
    result.stdout.fnmatch_lines(["*the test's own failure*"])


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
