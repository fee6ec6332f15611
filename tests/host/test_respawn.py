"""The shell respawn rule: five exits in a row, each within a second of starting, stop it."""

from __future__ import annotations

from goval.host import RespawnPolicy


def test_a_shell_that_ran_for_a_while_is_always_respawned() -> None:
    policy = RespawnPolicy()
    for i in range(20):
        policy.started(now=i * 10.0)
        assert policy.exited(now=i * 10.0 + 5.0)


def test_five_quick_exits_in_a_row_stop_respawning() -> None:
    policy = RespawnPolicy()
    decisions = []
    for i in range(5):
        policy.started(now=float(i))
        decisions.append(policy.exited(now=i + 0.5))
    assert decisions == [True, True, True, True, False]


def test_a_slow_exit_resets_the_count_of_quick_ones() -> None:
    policy = RespawnPolicy()
    now = 0.0
    for _ in range(4):
        policy.started(now)
        assert policy.exited(now + 0.1)
        now += 1
    policy.started(now)
    assert policy.exited(now + 1.5)  # ran long enough
    assert policy.quick_exits == 0
    for _ in range(4):
        now += 2
        policy.started(now)
        assert policy.exited(now + 0.2)


def test_an_exit_exactly_one_second_after_start_counts_as_quick() -> None:
    policy = RespawnPolicy(max_quick_exits=1)
    policy.started(100.0)
    assert not policy.exited(101.0)


def test_reset_allows_a_new_start_after_giving_up() -> None:
    policy = RespawnPolicy(max_quick_exits=2)
    for t in (0.0, 1.0):
        policy.started(t)
        policy.exited(t + 0.1)
    assert policy.quick_exits == 2
    policy.reset()
    policy.started(5.0)
    assert policy.exited(5.1)
